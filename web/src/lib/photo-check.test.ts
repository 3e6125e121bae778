import { describe, expect, it } from "vitest";
import { UPLOAD_TYPES } from "../../../api/src/services/image-check.ts";
import { MAX_UPLOAD_BYTES } from "../../../api/src/services/uploads.ts";
import { checkPhoto, formatBytes, MAX_PHOTO_BYTES, PHOTO_TYPES } from "./photo-check.ts";

describe("the photo check before upload", () => {
  it("accepts what the api accepts, no more", () => {
    expect([...PHOTO_TYPES]).toEqual([...UPLOAD_TYPES]);
    expect(MAX_PHOTO_BYTES).toBe(MAX_UPLOAD_BYTES);
  });

  it("refuses other types, empty and too-large files", () => {
    expect(checkPhoto({ type: "image/png", size: 1000 })).toBeNull();
    expect(checkPhoto({ type: "image/jpeg", size: MAX_PHOTO_BYTES })).toBeNull();
    expect(checkPhoto({ type: "image/gif", size: 1000 })).toBe("type");
    expect(checkPhoto({ type: "", size: 1000 })).toBe("type");
    expect(checkPhoto({ type: "image/heic", size: 1000 })).toBe("type");
    expect(checkPhoto({ type: "image/webp", size: 0 })).toBe("empty");
    expect(checkPhoto({ type: "image/webp", size: MAX_PHOTO_BYTES + 1 })).toBe("too_large");
  });

  it("says sizes in words", () => {
    expect(formatBytes(500)).toBe("500 B");
    expect(formatBytes(2048)).toBe("2 KB");
    expect(formatBytes(15 * 1024 * 1024)).toBe("15.0 MB");
  });
});
