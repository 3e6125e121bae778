import path from "node:path";
import { repoRoot } from "@faceapp/core";

/** A photo from ../shared/fixtures/photos, beside the repository. */
export function fixturePath(name: string): string {
  return path.resolve(repoRoot, "../shared/fixtures/photos", name);
}
