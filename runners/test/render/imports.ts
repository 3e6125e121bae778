// What the render tests use, in one place.
export { pageArt, type Manifest, type PageId } from "@faceapp/core";
export * from "../../src/render/index.ts";
