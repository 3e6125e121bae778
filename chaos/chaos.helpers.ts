// Small helpers of the chaos scenarios: polling for a final state, the bucket's keys, medians.
import { ListObjectsV2Command, type S3Client } from "@aws-sdk/client-s3";

/** Polls `probe` until it says yes; throws after `timeoutMs`. */
export async function waitUntil(probe: () => Promise<boolean>, timeoutMs: number, everyMs = 200): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Every key of the bucket under `prefix`, all pages of the listing. */
export async function listKeys(s3: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const found: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    for (const object of page.Contents ?? []) if (object.Key) found.push(object.Key);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return found;
}

/** The files a finished page leaves in the bucket: face pages keep the face engine's background too. */
export function pageFiles(needsFace: boolean): Array<"background.png" | "print.png" | "print.jpg" | "web.jpg"> {
  return needsFace ? ["background.png", "print.png", "print.jpg", "web.jpg"] : ["print.png", "print.jpg", "web.jpg"];
}

/** The median of some numbers (0 for none). */
export function median(values: number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : Math.round((sorted[mid - 1]! + sorted[mid]!) / 2);
}
