// The repository stands on its own: a fresh clone with nothing beside it has every file, document and
// fixture its code, tests and docs refer to.
import { execFileSync } from "node:child_process";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot } from "@faceapp/core";
import { findOutsideReferences, trackedTextFiles } from "./standalone.ts";

const around = path.dirname(repoRoot);
// Built from parts, so that this file holds none of the references it tests the check with.
const up = "../";
const md = (name: string) => `${name}.md`;

describe("the repository stands on its own", () => {
  it("refers to nothing outside itself in any tracked file", () => {
    const paths = execFileSync("git", ["ls-files", "-z"], { cwd: repoRoot, encoding: "utf8" })
      .split("\0")
      .filter(Boolean);
    expect(paths.length).toBeGreaterThan(100);
    expect(findOutsideReferences(repoRoot, around, trackedTextFiles(repoRoot, paths))).toEqual([]);
  });

  describe("the check finds", () => {
    const check = (file: string, text: string, others: string[] = []) =>
      findOutsideReferences(repoRoot, around, [{ path: file, text }, ...others.map((p) => ({ path: p, text: "" }))]);

    it("a relative path that climbs out of the repository", () => {
      expect(check("testkit/src/x.ts", `read("${up}${up}${up}shared/photos/a.png")`)).toMatchObject([
        { file: "testkit/src/x.ts", line: 1, why: "climbs out of the repository" },
      ]);
    });

    it("a path resolved from the root that leaves it, though it stays inside from the file", () => {
      const found = check("testkit/src/x.ts", `path.resolve(repoRoot, "${up}shared/photos")`);
      expect(found).toHaveLength(1);
      expect(found[0]?.found).toBe(`${up}shared/photos`);
    });

    it("but not an import of a neighbour", () => {
      expect(
        check("api/src/routes/a.ts", `import { b } from "${up}services/b.js";`, ["api/src/services/b.ts"]),
      ).toEqual([]);
    });

    it("an absolute path into the folder around the repository", () => {
      const found = check("scripts/x.ts", `const photos = "${path.join(around, "shared", "photos")}";`);
      expect(found.map((f) => f.why)).toEqual(["an absolute path outside the repository"]);
      expect(check("scripts/x.ts", `const me = "${path.join(repoRoot, "docs")}";`)).toEqual([]);
    });

    it("a document a comment cites that the repository lacks, and a broken link", () => {
      expect(
        check("core/src/a.ts", `// see ${md("style-guide")}\n// and ${md("README")}`, ["README.md"]),
      ).toMatchObject([{ line: 1, found: md("style-guide") }]);
      expect(
        check("docs/a.md", `[x](${md("missing")}) [y](https://example.org/${md("z")}) [z](${md("b")}#part)`, [
          `docs/${md("b")}`,
        ]),
      ).toMatchObject([{ found: md("missing"), why: "links to a file the repository does not have" }]);
    });
  });
});
