// Finds what a tracked file refers to outside the repository: a relative path that climbs out of it,
// an absolute path into the folder around it, or a document that is cited but not in the repository.
import fs from "node:fs";
import path from "node:path";

export interface TrackedFile {
  /** Relative to the repository root, with forward slashes. */
  path: string;
  text: string;
}

export interface OutsideReference {
  file: string;
  line: number;
  found: string;
  why: string;
}

const UP = String.raw`(?:\.\.\/)+`;
const relativePath = new RegExp(`${UP}[A-Za-z0-9_@.-][^\\s'"\`)\\]>,;:*]*`, "g");
const citedDocument = /(?<![\w./-])[A-Za-z0-9_-][A-Za-z0-9_.-]*\.md\b/g;
const markdownLink = /\]\(([^)\s#]+)(?:#[^)]*)?\)/g;
const codeFile =
  /\.(?:[cm]?[jt]sx?|sql|sh|ya?ml|json|css|html|conf)$|(?:^|\/)(?:Dockerfile[^/]*|\.ci\/run|\.npmrc|\.env\.example)$/;

function lineOf(text: string, index: number): number {
  let line = 1;
  for (let i = 0; i < index; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

const inside = (root: string, target: string) => target === root || target.startsWith(root + path.sep);

/** A path into an installed package (node_modules is not tracked, but `npm ci` makes it inside the repository). */
const installed = (root: string, target: string) =>
  path.relative(root, target).split(path.sep).includes("node_modules");

/** A line marked `outside-path: <why>` (or under such a comment) holds a path on purpose, e.g. a traversal a test sends. */
function allowed(text: string, index: number): boolean {
  const start = text.lastIndexOf("\n", index);
  const end = text.indexOf("\n", index);
  const lineAndAbove = text.slice(text.lastIndexOf("\n", start - 1) + 1, end === -1 ? undefined : end);
  return /outside-path: \S/.test(lineAndAbove);
}

/** Whether a path (as an import would name it: `.js` for a `.ts` source) names something in the tree. */
function existsInTree(target: string, known: Set<string>): boolean {
  const candidates = [
    target,
    target.replace(/\.js$/, ".ts"),
    target.replace(/\.js$/, ".tsx"),
    target.replace(/\/$/, ""),
  ];
  return candidates.some((c) => known.has(c) || [...known].some((k) => k.startsWith(`${c}/`)));
}

/**
 * Every reference outside `root` in `files`. `around` is the folder that holds the repository (an
 * absolute path into it that is not inside the repository is a reference outside).
 */
export function findOutsideReferences(root: string, around: string, files: TrackedFile[]): OutsideReference[] {
  const known = new Set(files.map((f) => path.join(root, f.path)));
  const basenames = new Set(files.map((f) => path.basename(f.path)));
  const found: OutsideReference[] = [];
  const report = (file: TrackedFile, index: number, text: string, why: string) =>
    found.push({ file: file.path, line: lineOf(file.text, index), found: text, why });

  for (const file of files) {
    const dir = path.dirname(path.join(root, file.path));
    for (const m of file.text.matchAll(relativePath)) {
      const fromFile = path.resolve(dir, m[0]);
      const fromRoot = path.resolve(root, m[0]);
      if (!inside(root, fromFile)) report(file, m.index, m[0], "climbs out of the repository");
      else if (
        !inside(root, fromRoot) &&
        !existsInTree(fromFile, known) &&
        !installed(root, fromFile) &&
        !allowed(file.text, m.index)
      )
        report(file, m.index, m[0], "climbs out of the repository from its root, and names nothing beside the file");
    }
    const aroundPrefix = around.endsWith("/") ? around : `${around}/`;
    for (let i = file.text.indexOf(aroundPrefix); i !== -1; i = file.text.indexOf(aroundPrefix, i + 1)) {
      const rest = /^[^\s'"`)]*/.exec(file.text.slice(i))?.[0] ?? aroundPrefix;
      if (!inside(root, path.resolve(rest))) report(file, i, rest, "an absolute path outside the repository");
    }
    if (codeFile.test(file.path))
      for (const m of file.text.matchAll(citedDocument))
        if (!basenames.has(m[0])) report(file, m.index, m[0], "cites a document the repository does not have");
    if (file.path.endsWith(".md"))
      for (const m of file.text.matchAll(markdownLink)) {
        const target = m[1] ?? "";
        if (/^[a-z]+:/i.test(target) || target.startsWith("/")) continue;
        if (!existsInTree(path.resolve(dir, decodeURIComponent(target)), known))
          report(file, m.index, target, "links to a file the repository does not have");
      }
  }
  return found;
}

/** The tracked text files of a checkout (files with a NUL byte, or over 2 MB, are not text). */
export function trackedTextFiles(root: string, paths: string[]): TrackedFile[] {
  return paths.flatMap((p) => {
    const full = path.join(root, p);
    if (!fs.existsSync(full) || fs.statSync(full).size > 2 * 1024 * 1024) return [];
    const bytes = fs.readFileSync(full);
    return bytes.includes(0) ? [] : [{ path: p, text: bytes.toString("utf8") }];
  });
}
