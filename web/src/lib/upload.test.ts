import { describe, expect, it } from "vitest";
import { percentOf, presignedForm, UploadFailed, uploadToBucket } from "./upload.ts";

/** An XMLHttpRequest stand-in that reports upload progress in steps, then answers `status`. */
function fakeXhr(status: number, steps: number[], log: { method?: string; url?: string; body?: FormData }) {
  return class {
    status = 0;
    upload: { onprogress?: (e: { lengthComputable: boolean; loaded: number; total: number }) => void } = {};
    onload?: () => void;
    onerror?: () => void;
    onabort?: () => void;
    open(method: string, url: string) {
      log.method = method;
      log.url = url;
    }
    abort() {
      this.onabort?.();
    }
    send(body: FormData) {
      log.body = body;
      queueMicrotask(() => {
        for (const loaded of steps) this.upload.onprogress?.({ lengthComputable: true, loaded, total: 100 });
        if (status === 0) this.onerror?.();
        else {
          this.status = status;
          this.onload?.();
        }
      });
    }
  } as unknown as typeof XMLHttpRequest;
}

const ticket = { url: "http://s3/bucket", fields: { key: "uploads/u/1", Policy: "p", "X-Amz-Signature": "s" } };

describe("the upload straight to the bucket", () => {
  it("posts the policy fields first and the file last (S3 ignores fields after the file)", () => {
    const form = presignedForm(ticket, new Blob(["x"], { type: "image/png" }), "me.png");
    expect([...form.keys()]).toEqual(["key", "Policy", "X-Amz-Signature", "file"]);
    expect((form.get("file") as File).name).toBe("me.png");
  });

  it("reports real progress from the upload events, then 100%", async () => {
    const log: { method?: string; url?: string } = {};
    const seen: number[] = [];
    const file = new Blob(["x".repeat(100)], { type: "image/png" });
    await uploadToBucket(ticket, file, (p) => seen.push(percentOf(p)), undefined, fakeXhr(204, [10, 55, 100], log));
    expect(log).toMatchObject({ method: "POST", url: "http://s3/bucket" });
    expect(seen).toEqual([10, 55, 100, 100]);
  });

  it("fails with the store's status, or as a network error", async () => {
    const file = new Blob(["x"]);
    await expect(uploadToBucket(ticket, file, () => {}, undefined, fakeXhr(403, [], {}))).rejects.toBeInstanceOf(
      UploadFailed,
    );
    await expect(uploadToBucket(ticket, file, () => {}, undefined, fakeXhr(0, [], {}))).rejects.toMatchObject({
      status: 0,
    });
  });

  it("computes a percentage safely", () => {
    expect(percentOf({ loaded: 0, total: 0 })).toBe(0);
    expect(percentOf({ loaded: 50, total: 200 })).toBe(25);
    expect(percentOf({ loaded: 300, total: 200 })).toBe(100);
  });
});
