import { describe, expect, it } from "vitest";
import { checkParamMap, faceWorkflowParams, loadFaceWorkflow } from "../../src/gpu/index.ts";

describe("the face workflow and its parameter map", () => {
  it("agrees with its map at start-up and builds graphs without touching the template", () => {
    const workflow = loadFaceWorkflow();
    const before = JSON.stringify(workflow.graph);
    const graph = workflow.build({
      childImage: "c.png",
      illustration: "i.png",
      mask: "m.png",
      prompt: "a boy",
      negativePrompt: "blurry",
      seed: 42,
      strengthScale: 2,
    });
    expect(JSON.stringify(workflow.graph)).toBe(before);
    expect(graph["17"]!.inputs).toMatchObject({ weight: 2.2, weight_faceidv2: 2 });
    expect(graph["16"]!.inputs.lora_strength).toBe(1.5);
    expect(graph["18"]!.inputs).toMatchObject({ seed: 42, steps: 30, cfg: 4, denoise: 0.6 });
    // The warm-up prompt's one step goes to the same sampler.
    const warmUp = workflow.build({
      childImage: "c.png",
      illustration: "i.png",
      mask: "m.png",
      prompt: "",
      negativePrompt: "",
      seed: 0,
      strengthScale: 1,
      steps: 1,
    });
    expect(warmUp["18"]!.inputs.steps).toBe(1);
    expect(JSON.stringify(workflow.graph)).toBe(before);
    // The original's graph: IPAdapter FaceID Plus V2 with its settings, SD1.5 inpainting.
    expect(graph["16"]!.inputs.preset).toBe("FACEID PLUS V2");
    expect(graph["17"]!.inputs).toMatchObject({
      weight_type: "ease in-out",
      combine_embeds: "concat",
      embeds_scaling: "K+V",
    });
  });

  it("names every way a re-exported graph can disagree with the map", () => {
    const { graph } = loadFaceWorkflow();
    const broken = structuredClone(graph);
    delete broken["7"]; // negative prompt gone (and a link to it dangles)
    broken["18"]!.class_type = "KSamplerAdvanced";
    delete broken["17"]!.inputs.weight;
    broken["2"]!.inputs.image = ["3", 0];
    const problems = checkParamMap(broken, faceWorkflowParams, { node: "25", classType: "SaveImage" });
    expect(problems).toEqual([
      "childImage: 2.image is a link, not a value to set",
      "negativePrompt: node 7 is not in the workflow",
      "seed: node 18 is KSamplerAdvanced, expected KSampler",
      "steps: node 18 is KSamplerAdvanced, expected KSampler",
      "ipadapterWeight: node 17 has no input weight",
      "node 9.negative links to missing node 7",
    ]);
    expect(() => loadFaceWorkflow(broken)).toThrow(/does not match its parameter map: childImage/);
  });
});
