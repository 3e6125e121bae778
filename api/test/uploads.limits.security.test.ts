// Photo limits and decoding memory: every shape core's PHOTO_LIMITS refuses is refused from the
// header, before a pixel is decoded; a kind of image that must be decoded whole (WebP, interlaced
// PNG, progressive JPEG, a photo to turn upright) is refused when it could not fit the decode budget;
// decodes share that budget; an empty object is empty; uploads per user are rate limited. The hostile
// images are made here with sharp (or, for the shapes, as tiny valid PNGs).
import { PutObjectCommand } from "@aws-sdk/client-s3";
import sharp, { type Sharp } from "sharp";
import { afterAll, describe, expect, it } from "vitest";
import { record } from "@faceapp/testkit";
import { PHOTO_LIMITS } from "@faceapp/core";
import { createBudget } from "../src/services/decode-budget.ts";
import { DECODE_BUDGET_BYTES, DECODE_FIXED_BYTES, decodeCost } from "../src/services/image-check.ts";
import {
  bearer,
  body,
  jsonInit,
  signUp,
  useApi,
  complete,
  createTicket,
  pngBomb,
  postToBucket,
} from "@faceapp/testkit/api";

const api = useApi();
/** Outcomes of the completions, by reason, for the suite's report. */
const outcomes: Record<string, number> = {};
afterAll(() => record("upload-limits", outcomes));

/** Uploads `bytes` as `type` and completes it; the upload's view. */
async function completed(bytes: Buffer, type: string) {
  const { token } = await signUp(api.app, "limits");
  const ticket = await createTicket(api.app, token, type, bytes.length);
  expect((await postToBucket(ticket, bytes)).status).toBeLessThan(300);
  const res = await complete(api.app, token, ticket.id);
  expect(res.status).toBe(200);
  const view = await body(res);
  const outcome = view.status === "ready" ? "ready" : String(view.rejectReason).split(":")[0]!;
  outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
  return view;
}

const solid = (width: number, height: number, channels: 3 | 4 = 3) =>
  sharp({ create: { width, height, channels, background: { r: 200, g: 120, b: 40, alpha: 1 } } });

describe("the shape of a photo: one set of limits, checked from the header", () => {
  const { maxPixels, maxSide, maxAspect } = PHOTO_LIMITS;
  const side = Math.ceil(Math.sqrt(maxPixels)) + 1;
  it.each([
    ["just over the pixel limit", side, side, "too_many_pixels"],
    [
      "a side over the limit, pixels and aspect within",
      maxSide + 1,
      Math.ceil((maxSide + 1) / maxAspect),
      "too_long_side",
    ],
    ["a strip wider than the aspect limit", maxAspect * 1000 + 1, 1000, "extreme_aspect"],
    ["a strip taller than the aspect limit", 1000, maxAspect * 1000 + 1, "extreme_aspect"],
    ["a 1-pixel line", 40_000, 1, "too_long_side"],
  ])("%s (%i×%i) is refused as %s", async (_, width, height, reason) => {
    const view = await completed(pngBomb(width, height), "image/png");
    expect(view).toMatchObject({ status: "rejected", width: null });
    expect(view.rejectReason).toMatch(new RegExp(`^${reason}:`));
  });

  it("a photo exactly at the aspect limit is kept", async () => {
    const view = await completed(pngBomb(maxAspect * 1000, 1000), "image/png");
    expect(view).toMatchObject({ status: "ready", width: maxAspect * 1000, height: 1000 });
  });
});

describe("kinds of image decoded whole: refused from the header when they could not fit the decode budget", () => {
  // Each is within the shape limits (≈ 30–39 MP) and was accepted, then decoded whole, before.
  it("a 30-megapixel WebP", async () => {
    const bytes = await solid(6000, 5000).webp({ lossless: true }).toBuffer();
    expect(bytes.length).toBeLessThan(1024 * 1024);
    const view = await completed(bytes, "image/webp");
    expect(view.status).toBe("rejected");
    expect(view.rejectReason).toMatch(/^too_many_pixels: a WebP image may have at most [\d.]+ megapixels$/);
  });

  it("a 30-megapixel interlaced 16-bit RGBA PNG", async () => {
    const bytes = await solid(6000, 5000, 4).toColourspace("rgb16").png({ progressive: true }).toBuffer();
    expect((await sharp(bytes).metadata()).isProgressive).toBe(true);
    const view = await completed(bytes, "image/png");
    expect(view.rejectReason).toMatch(/^too_many_pixels: a interlaced PNG image/);
  });

  it("a 39-megapixel progressive JPEG without chroma subsampling, while a subsampled one is kept", async () => {
    const full = await solid(6500, 6000).jpeg({ progressive: true, chromaSubsampling: "4:4:4" }).toBuffer();
    expect((await completed(full, "image/jpeg")).rejectReason).toMatch(/^too_many_pixels: a progressive JPEG image/);
    const subsampled = await solid(6500, 6000).jpeg({ progressive: true, chromaSubsampling: "4:2:0" }).toBuffer();
    expect(await completed(subsampled, "image/jpeg")).toMatchObject({ status: "ready", width: 6500, height: 6000 });
  });

  it("estimates an eighth of a decoded pixel for what streams, and the whole frame for each kind that does not", async () => {
    const meta = async (image: Sharp) => sharp(await image.toBuffer()).metadata();
    expect(decodeCost(await meta(solid(64, 48).png()))).toEqual({ perPixel: 3 / 8, kinds: [] });
    expect(decodeCost(await meta(solid(64, 48).jpeg()))).toEqual({ perPixel: 3 / 8, kinds: [] });
    expect(decodeCost(await meta(solid(64, 48, 4).toColourspace("rgb16").png()))).toEqual({ perPixel: 1, kinds: [] });
    expect(decodeCost(await meta(solid(64, 48).png({ progressive: true })))).toEqual({
      perPixel: 3 / 8 + 3,
      kinds: ["interlaced PNG"],
    });
    expect(decodeCost(await meta(solid(64, 48).jpeg().withMetadata({ orientation: 6 })))).toEqual({
      perPixel: 3 / 8 + 3,
      kinds: ["rotated"],
    });
    const progressive = solid(64, 48).jpeg({ progressive: true, chromaSubsampling: "4:2:0" });
    expect(decodeCost(await meta(progressive)).perPixel).toBe(3 / 8 + 3);
    // The largest photo that streams fits the budget with room to spare, and the budget the target.
    expect(DECODE_FIXED_BYTES + PHOTO_LIMITS.maxPixels * 1).toBeLessThan(DECODE_BUDGET_BYTES);
    expect(DECODE_BUDGET_BYTES).toBeLessThan(300 * 1024 * 1024);
  });
});

describe("the decode budget", () => {
  it("never runs more than its capacity at once, runs an oversized cost alone, and serves in order", async () => {
    const budget = createBudget(100);
    let running = 0;
    let most = 0;
    const order: number[] = [];
    const task = (i: number, cost: number) =>
      budget.run(cost, async () => {
        order.push(i);
        running += cost;
        most = Math.max(most, running);
        await new Promise((r) => setTimeout(r, 5));
        running -= cost;
      });
    await Promise.all([task(0, 60), task(1, 60), task(2, 30), task(3, 500), task(4, 10)]);
    expect(most).toBeLessThanOrEqual(500);
    expect(order).toEqual([0, 1, 2, 3, 4]);
    // Without the oversized one, the sum in flight stays within the capacity.
    most = 0;
    await Promise.all(Array.from({ length: 12 }, (_, i) => task(i, 10 + (i % 4) * 20)));
    expect(most).toBeLessThanOrEqual(100);
  });

  it("still frees its share when the work fails", async () => {
    const budget = createBudget(10);
    await expect(budget.run(10, async () => Promise.reject(new Error("decode failed")))).rejects.toThrow();
    expect(await budget.run(10, async () => "next")).toBe("next");
  });
});

describe("what was uploaded", () => {
  it("an empty object is refused as empty, not as too large", async () => {
    const { token } = await signUp(api.app);
    const ticket = await createTicket(api.app, token, "image/jpeg", 1000);
    await api.bucket.client.send(
      new PutObjectCommand({ Bucket: api.s3Config.bucket, Key: ticket.fields.key, Body: Buffer.alloc(0) }),
    );
    const done = await body(await complete(api.app, token, ticket.id));
    expect(done).toMatchObject({ status: "rejected" });
    expect(done.rejectReason).toMatch(/^empty:/);
  });
});

describe("uploads per user", () => {
  it("are rate limited per user: the next one is 429 with Retry-After, another user's still pass", async () => {
    const app = api.build({ env: { UPLOAD_RATE_LIMIT_PER_USER: "3", UPLOAD_RATE_LIMIT_WINDOW_SECONDS: "600" } });
    const one = await signUp(app, "uploader");
    const other = await signUp(app, "uploader");
    const start = () =>
      app.request("/v1/uploads", jsonInit("POST", { contentType: "image/png", byteSize: 10 }, bearer(one.token)));
    for (let i = 0; i < 3; i++) expect((await start()).status).toBe(201);
    const refused = await start();
    expect(refused.status).toBe(429);
    const error = (await body(refused)).error;
    expect(error.code).toBe("rate_limited");
    expect(error.details.retryAfter).toBeGreaterThan(0);
    const theirs = await app.request(
      "/v1/uploads",
      jsonInit("POST", { contentType: "image/png", byteSize: 10 }, bearer(other.token)),
    );
    expect(theirs.status).toBe(201);
  });
});
