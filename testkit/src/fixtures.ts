import path from "node:path";
import { repoRoot } from "@faceapp/core";

/** A test photo from testkit/fixtures/photos (their sources and terms: that folder's README). */
export function fixturePath(name: string): string {
  return path.resolve(repoRoot, "testkit/fixtures/photos", name);
}
