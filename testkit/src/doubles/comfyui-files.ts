import type { ServerResponse } from "node:http";

// ComfyUI's input and output folders as the double keeps them: `/upload/image` with its renaming
// rule and `/view` with its path guards (server.py).

export interface Folders {
  /** Input files by name (`subfolder/name` inside a subfolder). */
  input: Map<string, Buffer>;
  /** Output and temp files by `type/name`. */
  output: Map<string, Buffer>;
}

/** `GET /view`: 400 for absolute or `..` names, 403 for a subfolder escape, 404 when missing. */
export function viewFile(folders: Folders, url: URL, res: ServerResponse): void {
  const filename = url.searchParams.get("filename") ?? "";
  const type = url.searchParams.get("type") ?? "output";
  const subfolder = url.searchParams.get("subfolder") ?? "";
  if (!filename || filename.startsWith("/") || filename.includes("..")) {
    res.writeHead(400).end();
    return;
  }
  if (subfolder.includes("..") || subfolder.startsWith("/")) {
    res.writeHead(403).end();
    return;
  }
  const name = subfolder ? `${subfolder}/${filename}` : filename;
  const bytes = type === "input" ? folders.input.get(name) : folders.output.get(`${type}/${name}`);
  if (!bytes) {
    res.writeHead(404).end();
    return;
  }
  res.writeHead(200, { "content-type": "image/png", "content-length": bytes.length }).end(bytes);
}

/**
 * `POST /upload/image` (multipart: image, overwrite, type, subfolder). Without overwrite, a
 * same-named file with other bytes is stored as `name (1).ext` (then 2, …) and that name returned;
 * identical bytes keep the name. Null when the form has no image.
 */
export async function uploadImage(
  folders: Folders,
  contentType: string,
  body: Buffer,
): Promise<{ original: string; answer: { name: string; subfolder: string; type: string } } | null> {
  const form = await new Request("http://double/upload/image", {
    method: "POST",
    headers: { "content-type": contentType },
    body: new Uint8Array(body),
  }).formData();
  const image = form.get("image");
  if (!image || typeof image === "string") return null;
  const overwrite = ["true", "1"].includes(String(form.get("overwrite") ?? ""));
  const subfolder = String(form.get("subfolder") ?? "");
  const bytes = Buffer.from(await image.arrayBuffer());
  const original = image.name.replace(/^.*[\\/]/, "");
  const dot = original.lastIndexOf(".");
  const [stem, ext] = dot > 0 ? [original.slice(0, dot), original.slice(dot)] : [original, ""];
  const key = (n: string) => (subfolder ? `${subfolder}/${n}` : n);
  let name = original;
  for (let i = 1; !overwrite && folders.input.has(key(name)) && !folders.input.get(key(name))!.equals(bytes); i++) {
    name = `${stem} (${i})${ext}`;
  }
  folders.input.set(key(name), bytes);
  return { original, answer: { name, subfolder, type: String(form.get("type") ?? "input") } };
}
