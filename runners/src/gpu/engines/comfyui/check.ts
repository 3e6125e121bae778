import {
  type ApiPrompt,
  folderInputs,
  folderList,
  type NodeError,
  type ObjectInfo,
  validatePrompt,
} from "@faceapp/core/comfyui";
import type { ComfyHttp } from "./http.ts";

// Will this ComfyUI accept and run the face workflow? The same validation as its `POST /prompt`
// (@faceapp/core/comfyui, execution.py's rules) on the graph with our parameters, plus what the
// IPAdapter FaceID loader looks for by file-name pattern only when it runs. Each problem is one line
// an operator can act on. Used at the gpu runner's start-up (/readyz) and by `npm run comfy:check`.

const folderNoun: Record<string, string> = {
  checkpoints: "checkpoint",
  controlnet: "controlnet",
  upscale_models: "upscale model",
  clip_vision: "CLIP vision model",
  loras: "LoRA",
  ipadapter: "IPAdapter model",
};

/**
 * Files IPAdapterUnifiedLoaderFaceID picks by regular expression from a folder's list when it runs
 * (ComfyUI_IPAdapter_plus utils.py, SD1.5 branch), with the manifest's file for each.
 */
const faceIdPatterns: Record<string, Array<{ folder: string; pattern: RegExp; expected: string }>> = {
  "FACEID PLUS V2": [
    {
      folder: "clip_vision",
      pattern: /(ViT.H.14.*s32B.b79K|ipadapter.*sd15|sd1.?5.*model)\.(bin|safetensors)/i,
      expected: "CLIP-ViT-H-14-laion2B-s32B-b79K.safetensors",
    },
    {
      folder: "ipadapter",
      pattern: /faceid.plusv2.sd15\.(safetensors|bin)$/i,
      expected: "ip-adapter-faceid-plusv2_sd15.bin",
    },
    {
      folder: "loras",
      pattern: /faceid.plusv2.sd15.lora\.safetensors$/i,
      expected: "ip-adapter-faceid-plusv2_sd15_lora.safetensors",
    },
  ],
};

function describe(graph: ApiPrompt, id: string, classType: string, e: NodeError): string {
  const input = typeof e.extra_info.input_name === "string" ? e.extra_info.input_name : undefined;
  const binding = folderInputs.find((b) => b.classType === classType && b.input === input);
  if (e.type === "value_not_in_list" && binding && binding.folder !== "input") {
    const noun = folderNoun[binding.folder] ?? "file";
    return `${noun} ${String(e.extra_info.received_value)} is not in models/${binding.folder} (node ${id} ${classType}, input ${input})`;
  }
  const title = graph[id]?._meta?.title;
  const where = `node ${id} (${classType}${title ? `, "${title}"` : ""})${input ? ` input ${input}` : ""}`;
  const detail = e.details && e.details !== input ? ` (${e.details})` : "";
  return `${where}: ${e.message}${detail}`;
}

/** Problems the server would have with `graph`; empty when it would accept and find every file. */
export function checkWorkflow(info: ObjectInfo, graph: ApiPrompt): string[] {
  // LoadImage files are uploaded per page: their names are not the server's business until then.
  const result = validatePrompt(graph, info, { custom: { LoadImage: { inputs: ["image"], validate: () => true } } });
  const problems: string[] = [];
  if (!result.ok) {
    if (result.error.type === "invalid_prompt") {
      problems.push(`${result.error.message} (${result.error.details}): a custom node pack is missing from the image`);
    } else if (Object.keys(result.node_errors).length === 0) {
      problems.push(`${result.error.message}${result.error.details ? `: ${result.error.details}` : ""}`);
    }
  }
  for (const [id, n] of Object.entries(result.node_errors)) {
    for (const e of n.errors) problems.push(describe(graph, id, n.class_type, e));
  }
  for (const [id, node] of Object.entries(graph)) {
    if (node.class_type !== "IPAdapterUnifiedLoaderFaceID") continue;
    for (const need of faceIdPatterns[String(node.inputs.preset)] ?? []) {
      const list = folderList(info, need.folder);
      if (list === null || list.some((f) => need.pattern.test(f))) continue;
      const noun = folderNoun[need.folder] ?? "file";
      problems.push(
        `${noun} ${need.expected} is not in models/${need.folder} (node ${id} IPAdapterUnifiedLoaderFaceID finds it by the name pattern ${need.pattern.source} when it runs)`,
      );
    }
  }
  return problems;
}

export interface ServerCheck {
  problems: string[];
  comfyuiVersion: string | undefined;
}

/** Reads /system_stats and /object_info from a live ComfyUI and checks `graph` against them. */
export async function checkServer(http: ComfyHttp, graph: ApiPrompt, signal?: AbortSignal): Promise<ServerCheck> {
  const stats = await http.systemStats(signal);
  const info = await http.objectInfo(signal);
  return { problems: checkWorkflow(info, graph), comfyuiVersion: stats.system?.comfyui_version };
}
