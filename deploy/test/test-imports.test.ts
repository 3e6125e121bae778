// Tests live beside the code they test, and share helpers only through testkit: no test directory
// imports another test directory's files (a helper two packages need belongs in testkit/src).
import { execFileSync } from "node:child_process";
import path from "node:path";
import fs from "node:fs";
import { describe, expect, it } from "vitest";
import { repoRoot } from "@faceapp/core";

/** The test directories: each package's test/, the reliability suite (chaos/), and the root's deploy/test. */
const TEST_DIRS = [
  "api/test",
  "core/test",
  "runners/test",
  "sql/test",
  "testkit/test",
  "web/test",
  "deploy/test",
  "chaos",
];

const testDirOf = (file: string) => TEST_DIRS.find((dir) => file === dir || file.startsWith(`${dir}/`));

/** Imports of `file` (relative to the repository) that reach into a test directory other than its own. */
function foreignTestImports(file: string, text: string): string[] {
  const own = testDirOf(file);
  const found: string[] = [];
  for (const match of text.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)"(\.{1,2}\/[^"]+)"/g)) {
    const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), match[1]!));
    const dir = testDirOf(target);
    if (dir && dir !== own) found.push(`${file} imports ${target}`);
  }
  return found;
}

describe("test helpers", () => {
  it("are imported only from the test's own directory or testkit, never from another test directory", () => {
    const files = execFileSync("git", ["ls-files", "-z", "--", "*.ts", "*.tsx", "*.mts"], {
      cwd: repoRoot,
      encoding: "utf8",
    })
      .split("\0")
      .filter((f) => f && (testDirOf(f) || f.startsWith("testkit/src/") || f.startsWith("bench/")));
    expect(files.length).toBeGreaterThan(50);
    const found = files.flatMap((f) => foreignTestImports(f, fs.readFileSync(path.join(repoRoot, f), "utf8")));
    expect(found).toEqual([]);
  });

  it("the check finds an import of another test directory's helper, and allows its own and testkit's", () => {
    // Built from parts, so that this file holds none of the paths it tests the check with (standalone.test.ts).
    const up = "../";
    expect(foreignTestImports("chaos/x.faults.test.ts", `import { useApi } from "${up}api/test/helpers.ts";`)).toEqual([
      "chaos/x.faults.test.ts imports api/test/helpers.ts",
    ]);
    expect(
      foreignTestImports("testkit/src/x.ts", `const m = await import("${up}${up}web/test/e2e.helpers.ts");`),
    ).toEqual(["testkit/src/x.ts imports web/test/e2e.helpers.ts"]);
    expect(foreignTestImports("api/test/a.test.ts", `import { b } from "./b.ts";`)).toEqual([]);
    expect(
      foreignTestImports(
        "runners/test/gpu/a.test.ts",
        `import { d } from "${up}${up}${up}testkit/src/doubles/comfyui.ts";`,
      ),
    ).toEqual([]);
    expect(foreignTestImports("api/test/a.test.ts", `import { createApp } from "${up}src/app.ts";`)).toEqual([]);
  });
});
