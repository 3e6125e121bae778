import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import type { ObjectInfo } from "@faceapp/core/comfyui";
import { checkServer, checkWorkflow } from "../../runners/src/gpu/engines/comfyui/check.ts";
import { ComfyHttp } from "../../runners/src/gpu/engines/comfyui/http.ts";
import { loadFaceWorkflow } from "../../runners/src/gpu/workflow/params.ts";

// npm run comfy:check -- --url http://comfyui:8188 | --object-info saved.json [--scale 1.2]
// Would this ComfyUI accept and run the face workflow with our parameters? The gpu runner's start-up
// check, as a command: one line per problem (node, input, value), exit 1; exit 0 when it would.

const usage =
  "usage: npm run comfy:check -- (--url <ComfyUI base URL> | --object-info <saved /object_info JSON>) [--scale <IPADAPTER_STRENGTH_SCALE>]";

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { url: { type: "string" }, "object-info": { type: "string" }, scale: { type: "string", default: "1" } },
  });
  if (!values.url === !values["object-info"]) {
    console.error(usage);
    return 2;
  }
  const scale = Number(values.scale);
  const workflow = loadFaceWorkflow();
  const scaleProblems = workflow.scaleProblems(scale);
  const graph = workflow.build({
    childImage: "child.png",
    illustration: "illustration.png",
    mask: "mask.png",
    prompt: "",
    negativePrompt: "",
    seed: 0,
    strengthScale: scale,
  });
  let problems: string[];
  if (values.url) {
    const result = await checkServer(new ComfyHttp(values.url), graph);
    console.log(`ComfyUI ${result.comfyuiVersion ?? "(version unknown)"} at ${values.url}`);
    problems = result.problems;
  } else {
    const info = JSON.parse(await readFile(values["object-info"]!, "utf8")) as ObjectInfo;
    problems = checkWorkflow(info, graph);
  }
  problems = [...scaleProblems, ...problems];
  for (const p of problems) console.log(`problem: ${p}`);
  if (problems.length > 0) {
    console.log(`${problems.length} problem(s): ComfyUI would not run the face workflow`);
    return 1;
  }
  console.log("ok: ComfyUI would accept the face workflow and find every file it reads");
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    console.error(`comfy:check: ${error.message}`);
    process.exit(2);
  },
);
