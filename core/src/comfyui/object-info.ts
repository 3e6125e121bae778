// The shape of ComfyUI's `GET /object_info` as far as validation reads it (docs/comfyui-protocol.md).
// Each input is `[type, options?]`: type is a type name ("INT", "IMAGE", "*"), a list of allowed
// values (a combo, as classic nodes declare it), or "COMBO" with `options.options` (newer nodes).

export type InputSpec = [type: string | unknown[], options?: Record<string, unknown>];

export interface NodeInfo {
  input: {
    required?: Record<string, InputSpec>;
    optional?: Record<string, InputSpec>;
    hidden?: Record<string, unknown>;
  };
  output: string[];
  output_node: boolean;
  name?: string;
  [field: string]: unknown;
}

export type ObjectInfo = Record<string, NodeInfo>;

/** An API-format prompt: node id → class and inputs (a link is `[node id, output slot]`). */
export type ApiPrompt = Record<
  string,
  { class_type: string; inputs: Record<string, unknown>; _meta?: { title?: string } }
>;

/** The values a combo input accepts, or null when the input is not a combo. */
export function comboOptions(spec: InputSpec): unknown[] | null {
  const [type, options] = spec;
  if (Array.isArray(type)) return type;
  if (type === "COMBO") return Array.isArray(options?.options) ? (options.options as unknown[]) : [];
  return null;
}

/** Replaces a combo's values (both declaration styles), e.g. a model folder's file list. */
export function setComboOptions(spec: InputSpec, values: unknown[]): InputSpec {
  const [type, options] = spec;
  if (type === "COMBO") return ["COMBO", { ...options, options: values }];
  return options === undefined ? [values] : [values, options];
}

/** Where a node input's list comes from: a models folder the server scans. */
export interface FolderInput {
  classType: string;
  input: string;
  folder: string;
}

/** A copy of `info` whose folder-backed lists hold exactly `files[folder]` (folders not named keep theirs). */
export function withFolderLists(
  info: ObjectInfo,
  bindings: FolderInput[],
  files: Record<string, string[]>,
): ObjectInfo {
  const copy = structuredClone(info);
  for (const b of bindings) {
    const list = files[b.folder];
    const node = copy[b.classType];
    if (!list || !node) continue;
    for (const section of [node.input.required, node.input.optional]) {
      const spec = section?.[b.input];
      if (section && spec) section[b.input] = setComboOptions(spec, [...list].sort());
    }
  }
  return copy;
}

/**
 * The node inputs whose lists ComfyUI fills from a folder (folder_paths.get_filename_list), for the
 * classes the face workflow and the start-up check read; "input" is ComfyUI's input/ folder.
 */
export const folderInputs: FolderInput[] = [
  { classType: "CheckpointLoaderSimple", input: "ckpt_name", folder: "checkpoints" },
  { classType: "LoadImage", input: "image", folder: "input" },
  { classType: "ControlNetLoader", input: "control_net_name", folder: "controlnet" },
  { classType: "UpscaleModelLoader", input: "model_name", folder: "upscale_models" },
  { classType: "CLIPVisionLoader", input: "clip_name", folder: "clip_vision" },
  { classType: "LoraLoaderModelOnly", input: "lora_name", folder: "loras" },
  { classType: "IPAdapterModelLoader", input: "ipadapter_file", folder: "ipadapter" },
];

/** The files a server lists in one folder, read from any of the inputs bound to it (null: none seen). */
export function folderList(info: ObjectInfo, folder: string): string[] | null {
  for (const b of folderInputs.filter((f) => f.folder === folder)) {
    const node = info[b.classType];
    const spec = node?.input.required?.[b.input] ?? node?.input.optional?.[b.input];
    const list = spec ? comboOptions(spec) : null;
    if (list) return list.map(String);
  }
  return null;
}
