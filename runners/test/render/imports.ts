// What the render tests use, in one place.
export { type Manifest, maskUri, type PageId, pageArt } from "@faceapp/core";
export * from "../../src/render/index.ts";
