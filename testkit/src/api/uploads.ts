// Upload helpers: the browser's side of a presigned POST, and images that should be refused.
import { crc32, deflateSync } from "node:zlib";
import sharp from "sharp";
import type { App } from "@faceapp/api";
import { bearer, body, jsonInit } from "./app.ts";

export interface Ticket {
  id: string;
  url: string;
  fields: Record<string, string>;
  expiresAt: string;
  maxBytes: number;
}

/** POST /v1/uploads as a signed-in user. */
export async function createTicket(
  app: App,
  token: string,
  contentType = "image/jpeg",
  byteSize = 1000,
): Promise<Ticket> {
  const res = await app.request("/v1/uploads", jsonInit("POST", { contentType, byteSize }, bearer(token)));
  if (res.status !== 201) throw new Error(`create upload failed: ${res.status} ${await res.text()}`);
  return body(res);
}

/** What a browser does with a ticket: a multipart POST straight to the object store. */
export async function postToBucket(ticket: Ticket, bytes: Buffer, filename = "photo.jpg"): Promise<Response> {
  const form = new FormData();
  for (const [name, value] of Object.entries(ticket.fields)) form.append(name, value);
  form.append("file", new Blob([new Uint8Array(bytes)], { type: ticket.fields["Content-Type"] }), filename);
  return fetch(ticket.url, { method: "POST", body: form });
}

export async function complete(app: App, token: string, id: string): Promise<Response> {
  return app.request(`/v1/uploads/${id}/complete`, { method: "POST", headers: bearer(token) });
}

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const typed = Buffer.concat([Buffer.from(type, "latin1"), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(typed));
  return Buffer.concat([length, typed, crc]);
}

/** A real, valid 20000×20000 PNG (1-bit grey) of about 50 KB: 400 megapixels once decoded. */
export function pngBomb(width = 20_000, height = 20_000): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 1; // bit depth
  ihdr[9] = 0; // greyscale
  const rows = Buffer.alloc((1 + Math.ceil(width / 8)) * height); // filter byte 0 + zero pixels per row
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", ihdr),
    chunk("IDAT", deflateSync(rows, { level: 9 })),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

/** A detailed JPEG cut off part-way through its scan data. */
export async function truncatedJpeg(): Promise<Buffer> {
  const full = await sharp({
    create: {
      width: 256,
      height: 256,
      channels: 3,
      background: "#808080",
      noise: { type: "gaussian", mean: 128, sigma: 40 },
    },
  })
    .jpeg({ quality: 90 })
    .toBuffer();
  return full.subarray(0, Math.floor(full.length * 0.6));
}
