import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { ApiPrompt, ObjectInfo } from "@faceapp/core/comfyui";

// What the double knows of a real ComfyUI: the object_info extracted from the pinned sources
// (testkit/fixtures/comfyui, made by scripts/comfy/extract-object-info.py), validated with the same
// module as the runner's check (@faceapp/core/comfyui, execution.py's rules).

export type ApiGraph = ApiPrompt;

const fixtures = fileURLToPath(new URL("../../fixtures/comfyui/", import.meta.url));

/** A fresh copy of the committed object_info fixture (model lists as the manifest names them). */
export function fixtureObjectInfo(): ObjectInfo {
  return JSON.parse(readFileSync(`${fixtures}object_info.json`, "utf8")) as ObjectInfo;
}

/** Where the fixture came from: the packs' commits and how each class was derived. */
export function fixtureSource(): { folderInputs: Array<{ classType: string; input: string; folder: string }> } & Record<
  string,
  unknown
> {
  return JSON.parse(readFileSync(`${fixtures}object_info.source.json`, "utf8"));
}

/** The graph's nodes in an order where every node comes after the nodes it links from. */
export function executionOrder(graph: ApiGraph): string[] {
  const order: string[] = [];
  const seen = new Set<string>();
  const visit = (id: string) => {
    if (seen.has(id) || !graph[id]) return;
    seen.add(id);
    for (const value of Object.values(graph[id]!.inputs)) if (Array.isArray(value)) visit(String(value[0]));
    order.push(id);
  };
  for (const id of Object.keys(graph)) visit(id);
  return order;
}
