// How ComfyUI's `POST /prompt` validates an API-format graph (execution.py `validate_prompt`), as far
// as the GPU runner can tell the difference: unknown classes, no output node, an input file that was
// never uploaded, a model that is not installed.

export type ApiGraph = Record<string, { class_type: string; inputs: Record<string, unknown> }>;

export interface NodeError {
  type: string;
  message: string;
  details: string;
  extra_info: Record<string, unknown>;
}

export type ValidationResult =
  | { ok: true; outputs: string[] }
  | {
      ok: false;
      error: NodeError;
      node_errors: Record<string, { errors: NodeError[]; dependent_outputs: string[]; class_type: string }>;
    };

/** Node classes of a ComfyUI with the original's custom node packs (what `/object_info` lists). */
export const defaultNodeClasses = [
  "CheckpointLoaderSimple",
  "LoadImage",
  "ImageToMask",
  "CLIPTextEncode",
  "InpaintModelConditioning",
  "ControlNetLoader",
  "ControlNetApplyAdvanced",
  "DWPreprocessor",
  "PiDiNetPreprocessor",
  "IPAdapterUnifiedLoaderFaceID",
  "IPAdapterFaceID",
  "KSampler",
  "VAEDecode",
  "UpscaleModelLoader",
  "ImageUpscaleWithModel",
  "ImageScale",
  "ImageCompositeMasked",
  "MaskBoundingBox+",
  "ColorMatch",
  "SaveImage",
  "PreviewImage",
];

export const outputClasses = new Set(["SaveImage", "PreviewImage"]);

function error(type: string, message: string, details = "", extra_info: Record<string, unknown> = {}): NodeError {
  return { type, message, details, extra_info };
}

/** Validates a graph as ComfyUI would before queueing it. */
export function validateGraph(
  graph: unknown,
  known: Set<string>,
  inputFiles: Set<string>,
  missingValues: Set<string>,
): ValidationResult {
  if (!graph || typeof graph !== "object") {
    return { ok: false, error: error("no_prompt", "No prompt provided"), node_errors: {} };
  }
  const nodes = graph as ApiGraph;
  for (const [id, node] of Object.entries(nodes)) {
    if (!node || typeof node.class_type !== "string" || !known.has(node.class_type)) {
      const cls = node?.class_type ?? "undefined";
      return {
        ok: false,
        error: error("invalid_prompt", `Cannot execute because node ${cls} does not exist.`, `Node ID '#${id}'`),
        node_errors: {},
      };
    }
  }
  const outputs = Object.keys(nodes).filter((id) => outputClasses.has(nodes[id]!.class_type));
  if (outputs.length === 0) {
    return { ok: false, error: error("prompt_no_outputs", "Prompt has no outputs"), node_errors: {} };
  }
  const nodeErrors: Extract<ValidationResult, { ok: false }>["node_errors"] = {};
  for (const [id, node] of Object.entries(nodes)) {
    const errors: NodeError[] = [];
    for (const [name, value] of Object.entries(node.inputs ?? {})) {
      if (Array.isArray(value)) {
        const source = nodes[String(value[0])];
        if (!source) {
          errors.push(error("invalid_link", "Linked node does not exist", `${name}: node ${String(value[0])}`));
        }
        continue;
      }
      const notUploaded = node.class_type === "LoadImage" && name === "image" && !inputFiles.has(String(value));
      if (notUploaded || (typeof value === "string" && missingValues.has(value))) {
        errors.push(
          error("value_not_in_list", "Value not in list", `${name}: '${String(value)}' not in list`, {
            input_name: name,
            received_value: value,
          }),
        );
      }
    }
    if (errors.length > 0) nodeErrors[id] = { errors, dependent_outputs: outputs, class_type: node.class_type };
  }
  if (Object.keys(nodeErrors).length > 0) {
    return {
      ok: false,
      error: error("prompt_outputs_failed_validation", "Prompt outputs failed validation"),
      node_errors: nodeErrors,
    };
  }
  return { ok: true, outputs };
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
