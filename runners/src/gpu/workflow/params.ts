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
  /** Left as the workflow has it for pages; the warm-up prompt runs one step. */
  steps: { node: "18", classType: "KSampler", input: "steps" },
  /** Scaled by IPADAPTER_STRENGTH_SCALE, as the original did. */
  ipadapterWeight: { node: "17", classType: "IPAdapterFaceID", input: "weight" },
  ipadapterWeightFaceIdV2: { node: "17", classType: "IPAdapterFaceID", input: "weight_faceidv2" },
  loraStrength: { node: "16", classType: "IPAdapterUnifiedLoaderFaceID", input: "lora_strength" },
} satisfies Record<string, InputRef>;

/** The node whose saved image is the page background. */
/** The warm-up prompt's child: a small real face (IPAdapter FaceID refuses an image without one). */
export const warmupFace = new URL("./warmup-face.png", import.meta.url);

export const faceWorkflowOutput = { node: "25", classType: "SaveImage" };

export type ParamMap = Record<keyof typeof faceWorkflowParams, InputRef>;

/**
 * The real limits of the inputs IPADAPTER_STRENGTH_SCALE multiplies, as ComfyUI_IPAdapter_plus declares
 * them at its pinned commit (INPUT_TYPES min/max; a test checks them against the extracted fixture).
 * ComfyUI refuses a prompt outside them (value_bigger_than_max), so the runner refuses the scale first.
 */
export const scaledInputLimits = {
  ipadapterWeight: { min: -1, max: 3 },
  ipadapterWeightFaceIdV2: { min: -1, max: 5 },
  loraStrength: { min: 0, max: 1 },
} as const;

export interface WorkflowParams {
  childImage: string;
  illustration: string;
  mask: string;
  prompt: string;
  negativePrompt: string;
  seed: number;
  /** Multiplies the IPAdapter weights and the LoRA strength (IPADAPTER_STRENGTH_SCALE). */
  strengthScale: number;
  /** Sampler steps; unset, the workflow's own (the warm-up prompt sets 1). */
  steps?: number;
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
  const scaled = (ref: InputRef, scale: number) =>
    Math.round(Number(graph[ref.node]!.inputs[ref.input]) * scale * 1e4) / 1e4;
  return {
    graph,
    output: faceWorkflowOutput,
    /** Why IPADAPTER_STRENGTH_SCALE = `scale` would push a scaled input past its real limit; empty when it fits. */
    scaleProblems(scale: number): string[] {
      const problems: string[] = [];
      for (const key of Object.keys(scaledInputLimits) as Array<keyof typeof scaledInputLimits>) {
        const ref = params[key];
        const { min, max } = scaledInputLimits[key];
        const base = Number(graph[ref.node]!.inputs[ref.input]);
        const value = scaled(ref, scale);
        if (value <= max && value >= min) continue;
        const bound = value > max ? `over its maximum of ${max}` : `under its minimum of ${min}`;
        const most = base > 0 ? Math.floor((max / base) * 100) / 100 : undefined;
        problems.push(
          `IPADAPTER_STRENGTH_SCALE=${scale} makes ${ref.classType} ${ref.input} ${base} × ${scale} = ${value}, ${bound} (node ${ref.node})` +
            (most !== undefined ? `; at most ${most} fits this workflow` : ""),
        );
      }
      return problems;
    },
    /** A fresh graph with the parameters set (the template is never mutated). */
    build(p: WorkflowParams): ApiGraph {
      const g = structuredClone(graph);
      const set = (ref: InputRef, value: unknown) => {
        g[ref.node]!.inputs[ref.input] = value;
      };
      set(params.childImage, p.childImage);
      set(params.illustration, p.illustration);
      set(params.mask, p.mask);
      set(params.prompt, p.prompt);
      set(params.negativePrompt, p.negativePrompt);
      set(params.seed, p.seed);
      if (p.steps !== undefined) set(params.steps, p.steps);
      set(params.ipadapterWeight, scaled(params.ipadapterWeight, p.strengthScale));
      set(params.ipadapterWeightFaceIdV2, scaled(params.ipadapterWeightFaceIdV2, p.strengthScale));
      set(params.loraStrength, scaled(params.loraStrength, p.strengthScale));
      return g;
    },
  };
}

export type FaceWorkflow = ReturnType<typeof loadFaceWorkflow>;
