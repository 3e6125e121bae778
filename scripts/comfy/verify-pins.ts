import { readFileSync } from "node:fs";
import path from "node:path";
import { repoRoot } from "@faceapp/core";

// npm run comfy:pins — offline: the ComfyUI image clones exactly the repositories of
// compose/comfyui-pins.tsv, at exactly those commits; every pin has a full commit id, its commit date
// (or why it is unknown), how it was checked to exist, and a reason; and every pinned node pack
// provides a node class the face workflow uses (per the object_info fixture's extraction record).

export interface Pin {
  name: string;
  repository: string;
  commit: string;
  committed: string;
  checked: string;
  reason: string;
}

export function readPins(text = readFileSync(path.join(repoRoot, "compose/comfyui-pins.tsv"), "utf8")): Pin[] {
  return text
    .split("\n")
    .filter((l) => l.trim() !== "" && !l.startsWith("#"))
    .map((l) => {
      const [name = "", repository = "", commit = "", committed = "", checked = "", reason = ""] = l.split("\t");
      return { name, repository, commit, committed, checked, reason };
    });
}

/** Problems between the pins, the Dockerfile and the packs the workflow uses; empty when they agree. */
export function verifyPins(
  pins: Pin[] = readPins(),
  dockerfile = readFileSync(path.join(repoRoot, "compose/comfyui.Dockerfile"), "utf8"),
  packsUsed: string[] = usedPacks(),
): string[] {
  const problems: string[] = [];
  const args = new Map([...dockerfile.matchAll(/^ARG (\w+_COMMIT)=(\S*)$/gm)].map((m) => [m[1]!, m[2]!]));
  const clones = [...dockerfile.matchAll(/comfy-fetch (https:\/\/\S+\.git) "\$\{(\w+)\}"/g)].map((m) => ({
    repository: m[1]!,
    commit: args.get(m[2]!),
  }));
  for (const pin of pins) {
    if (!/^[0-9a-f]{40}$/.test(pin.commit)) problems.push(`${pin.name}: ${pin.commit} is not a full commit id`);
    if (!/^\d{4}-\d{2}-\d{2}T|^unknown \(.+\)$/.test(pin.committed)) problems.push(`${pin.name}: no commit date`);
    if (!/^(mirror|index): \S/.test(pin.checked)) problems.push(`${pin.name}: no note of how the commit was checked`);
    if (pin.reason.trim() === "") problems.push(`${pin.name}: no reason for the pin`);
    const clone = clones.find((c) => c.repository === pin.repository);
    if (!clone) problems.push(`${pin.name}: the image does not clone ${pin.repository}`);
    else if (clone.commit !== pin.commit) {
      problems.push(`${pin.name}: the image clones ${clone.commit}, the pin is ${pin.commit}`);
    }
  }
  for (const clone of clones) {
    if (!pins.some((p) => p.repository === clone.repository))
      problems.push(`the image clones ${clone.repository}, which has no pin`);
  }
  for (const pin of pins) {
    if (pin.name !== "comfyui" && !packsUsed.includes(pin.name)) {
      problems.push(`${pin.name}: no node class of the face workflow comes from it; the image should not carry it`);
    }
  }
  return problems;
}

/** The node packs the fixture's classes were extracted from (the workflow's custom nodes). */
function usedPacks(): string[] {
  const source = JSON.parse(
    readFileSync(path.join(repoRoot, "testkit/fixtures/comfyui/object_info.source.json"), "utf8"),
  ) as {
    extractedClasses: Record<string, string>;
  };
  return [...new Set(Object.values(source.extractedClasses).map((s) => s.split("/")[0]!))];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const problems = verifyPins();
  for (const p of problems) console.log(`problem: ${p}`);
  console.log(problems.length ? `${problems.length} problem(s)` : `ok: ${readPins().length} pins agree with the image`);
  process.exit(problems.length ? 1 : 0);
}
