// The photo goes straight to the object store with the api's presigned POST; XHR because fetch
// cannot report upload progress.
import type { UploadTicket } from "../api/client.ts";

export interface UploadProgress {
  loaded: number;
  total: number;
}

/** The multipart form S3 expects: the policy fields first, the file last. */
export function presignedForm(ticket: Pick<UploadTicket, "fields">, file: Blob, filename = "photo"): FormData {
  const form = new FormData();
  for (const [name, value] of Object.entries(ticket.fields)) form.append(name, value);
  form.append("file", file, filename);
  return form;
}

/** Share 0–100 of an upload. */
export function percentOf(p: UploadProgress): number {
  if (p.total <= 0) return 0;
  return Math.min(100, Math.round((p.loaded / p.total) * 100));
}

export class UploadFailed extends Error {
  constructor(readonly status: number) {
    super(status === 0 ? "network error" : `the store answered ${status}`);
  }
}

export function uploadToBucket(
  ticket: Pick<UploadTicket, "url" | "fields">,
  file: Blob,
  onProgress: (p: UploadProgress) => void,
  signal?: AbortSignal,
  XHR: typeof XMLHttpRequest = XMLHttpRequest,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const xhr = new XHR();
    xhr.open("POST", ticket.url);
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) onProgress({ loaded: e.loaded, total: e.total });
    };
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress({ loaded: file.size, total: file.size });
        resolve();
      } else reject(new UploadFailed(xhr.status));
    };
    xhr.onerror = () => reject(new UploadFailed(0));
    xhr.onabort = () => reject(new DOMException("aborted", "AbortError"));
    signal?.addEventListener("abort", () => xhr.abort(), { once: true });
    xhr.send(presignedForm(ticket, file, file instanceof File ? file.name : "photo"));
  });
}
