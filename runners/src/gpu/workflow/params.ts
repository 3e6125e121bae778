import workflowJson from "./faceid-inpaint.json" with { type: "json" };

/** An API-format ComfyUI graph. */
export type ApiGraph = Record<
  string,
  { class_type: string; inputs: Record<string, unknown>; _meta?: { title?: string } }
>;

/** Where one parameter goes: a node input holding a literal, on a node of the expected class. */
export interface InputRef {
  node: string;
  classType: string;
  input: string;
}

/**
 * Which node input of the face workflow receives which parameter. Kept beside the graph and checked
 * against it at start-up, so a re-exported workflow with renumbered nodes fails loudly, not silently.
 */
export const faceWorkflowParams = {
  childImage: { node: "2", classType: "LoadImage", input: "image" },
  illustration: { node: "3", classType: "LoadImage", input: "image" },
  mask: { node: "4", classType: "LoadImage", input: "image" },
  prompt: { node: "6", classType: "CLIPTextEncode", input: "text" },
  negativePrompt: { node: "7", classType: "CLIPTextEncode", input: "text" },
  seed: { node: "18", classType: "KSampler", input: "seed" },
  /** Scaled by IPADAPTER_STRENGTH_SCALE, as the original did. */
  ipadapterWeight: { node: "17", classType: "IPAdapterFaceID", input: "weight" },
  ipadapterWeightFaceIdV2: { node: "17", classType: "IPAdapterFaceID", input: "weight_faceidv2" },
  loraStrength: { node: "16", classType: "IPAdapterUnifiedLoaderFaceID", input: "lora_strength" },
} satisfies Record<string, InputRef>;

/** The node whose saved image is the page background. */
export const faceWorkflowOutput = { node: "25", classType: "SaveImage" };

export type ParamMap = Record<keyof typeof faceWorkflowParams, InputRef>;

export interface WorkflowParams {
  childImage: string;
  illustration: string;
  mask: string;
  prompt: string;
  negativePrompt: string;
  seed: number;
  /** Multiplies the IPAdapter weights and the LoRA strength (IPADAPTER_STRENGTH_SCALE). */
  strengthScale: number;
}

/** Problems of a graph against its parameter map; empty when they agree. */
export function checkParamMap(
  graph: ApiGraph,
  params: Record<string, InputRef>,
  output: { node: string; classType: string },
): string[] {
  const problems: string[] = [];
  for (const [name, ref] of Object.entries(params)) {
    const node = graph[ref.node];
    if (!node) problems.push(`${name}: node ${ref.node} is not in the workflow`);
    else if (node.class_type !== ref.classType) {
      problems.push(`${name}: node ${ref.node} is ${node.class_type}, expected ${ref.classType}`);
    } else if (!(ref.input in node.inputs)) problems.push(`${name}: node ${ref.node} has no input ${ref.input}`);
    else if (Array.isArray(node.inputs[ref.input])) {
      problems.push(`${name}: ${ref.node}.${ref.input} is a link, not a value to set`);
    }
  }
  const out = graph[output.node];
  if (out?.class_type !== output.classType) problems.push(`output: node ${output.node} is not a ${output.classType}`);
  for (const [id, node] of Object.entries(graph)) {
    for (const [input, value] of Object.entries(node.inputs)) {
      if (Array.isArray(value) && !graph[String(value[0])]) {
        problems.push(`node ${id}.${input} links to missing node ${String(value[0])}`);
      }
    }
  }
  return problems;
}

/** The face workflow, parsed and checked against its map; throws with every problem at once. */
export function loadFaceWorkflow(graph: ApiGraph = workflowJson as ApiGraph, params: ParamMap = faceWorkflowParams) {
  const problems = checkParamMap(graph, params, faceWorkflowOutput);
  if (problems.length > 0)
    throw new Error(`the face workflow does not match its parameter map: ${problems.join("; ")}`);
  return {
    graph,
    output: faceWorkflowOutput,
    /** A fresh graph with the parameters set (the template is never mutated). */
    build(p: WorkflowParams): ApiGraph {
      const g = structuredClone(graph);
      const set = (ref: InputRef, value: unknown) => {
        g[ref.node]!.inputs[ref.input] = value;
      };
      const scaled = (ref: InputRef) =>
        Math.round(Number(graph[ref.node]!.inputs[ref.input]) * p.strengthScale * 1e4) / 1e4;
      set(params.childImage, p.childImage);
      set(params.illustration, p.illustration);
      set(params.mask, p.mask);
      set(params.prompt, p.prompt);
      set(params.negativePrompt, p.negativePrompt);
      set(params.seed, p.seed);
      set(params.ipadapterWeight, scaled(params.ipadapterWeight));
      set(params.ipadapterWeightFaceIdV2, scaled(params.ipadapterWeightFaceIdV2));
      set(params.loraStrength, scaled(params.loraStrength));
      return g;
    },
  };
}

export type FaceWorkflow = ReturnType<typeof loadFaceWorkflow>;
