// scripts/comfy/verify-pins.ts: the offline check of the ComfyUI image's pins (compose/comfyui-pins.tsv).
import { readFileSync } from "node:fs";
import path from "node:path";
import { repoRoot } from "@faceapp/core";
import { describe, expect, it } from "vitest";
import { readPins, verifyPins } from "../../scripts/comfy/verify-pins.ts";

const dockerfile = readFileSync(path.join(repoRoot, "compose/comfyui.Dockerfile"), "utf8");

describe("the ComfyUI image's pins", () => {
  it("agree with the Dockerfile, each with its date or why it is unknown, how it was checked and why", () => {
    expect(verifyPins()).toEqual([]);
    for (const pin of readPins()) expect(pin.checked, pin.name).toMatch(/^(mirror: on main|index: )/);
  });

  it("catch a Dockerfile commit that differs from its pin, a pack without a pin, and a pack the workflow does not use", () => {
    const moved = dockerfile.replace(/^ARG KJNODES_COMMIT=\w+$/m, `ARG KJNODES_COMMIT=${"a".repeat(40)}`);
    expect(verifyPins(readPins(), moved)).toEqual([
      `ComfyUI-KJNodes: the image clones ${"a".repeat(40)}, the pin is b37122a9fd079b2854fa92565582a195d6b03c92`,
    ]);
    const extra = dockerfile
      .replace(/^ARG KJNODES_COMMIT=.*$/m, (l) => `${l}\nARG WAS_COMMIT=${"b".repeat(40)}`)
      .replace(
        /ComfyUI-KJNodes \\\n/,
        (l) =>
          `${l}    && comfy-fetch https://github.com/WASasquatch/was-node-suite-comfyui.git "\${WAS_COMMIT}" was \\\n`,
      );
    expect(verifyPins(readPins(), extra)).toEqual([
      "the image clones https://github.com/WASasquatch/was-node-suite-comfyui.git, which has no pin",
    ]);
    expect(
      verifyPins(readPins(), dockerfile, ["ComfyUI_IPAdapter_plus", "ComfyUI_essentials", "comfyui_controlnet_aux"]),
    ).toEqual(["ComfyUI-KJNodes: no node class of the face workflow comes from it; the image should not carry it"]);
  });

  it("refuse a short commit id or a pin without a note of how it was checked", () => {
    const [first, ...rest] = readPins();
    expect(verifyPins([{ ...first!, commit: "071ff3e", checked: "trust me" }, ...rest], dockerfile)).toEqual([
      "comfyui: 071ff3e is not a full commit id",
      "comfyui: no note of how the commit was checked",
      "comfyui: the image clones 071ff3e208ab8a6d4ac1a9d1bdcf5b73b69ed92c, the pin is 071ff3e",
    ]);
  });
});
