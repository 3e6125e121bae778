// `npm run bench:likeness`: what the likeness check of a face page (docs/likeness.md) costs the gpu
// runner's own thread, in this process built as the runner builds it (`createGpuCapabilities`,
// composite engine, no InsightFace): the astronaut fixture analysed and its face crop described (as
// analyze_photo does), a face page drawn and measured in its face region (as personalize_page does),
// `--rounds` times (default 3). Figures:
//   - the runner's own thread's CPU time while the descriptors are made (`process.threadCpuUsage`,
//     user + system, the most of one round's two descriptors), which a busy machine does not move,
//     and the event loop's longest stall then (`monitorEventLoopDelay`, 10 ms resolution), which it
//     does: face-api on the runner's thread stalls the loop for each measurement;
//   - the process's resident memory after the work, and at rest: past face-api's worker idle end
//     (15 s, as deployed) and a full GC (run with --expose-gc, as the script's npm entry does).
// Prints a table, then one line `RESULTS <json>`.
import { readFile } from "node:fs/promises";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { parseArgs } from "node:util";
import sharp from "sharp";
import { createGpuCapabilities } from "../runners/src/gpu/index.ts";
import { faceRegion } from "../runners/src/pipeline/likeness.ts";
import { fixturePath } from "../testkit/src/fixtures.ts";
import type { Result } from "./lib.ts";

const { values: args } = parseArgs({ options: { rounds: { type: "string", default: "3" } } });
const rounds = Number(args.rounds);
const rssMb = () => process.memoryUsage().rss / 2 ** 20;
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("run with --expose-gc (npm run bench:likeness)");
const line = (name: string, value: string) => console.log(`${name.padEnd(58)} ${value}`);

// A face page as the threshold test draws one (runners/test/gpu/likeness.test.ts): 640×600, a head
// with eyes, a smile and a fringe, and its face mask.
const [W, H] = [640, 600];
const page = await sharp(
  Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}">
<rect width="${W}" height="${H}" fill="#fde0c0"/>
<path d="M 194 260 A 126 132 0 0 1 446 260 Z" fill="#6f4e37"/><circle cx="320" cy="270" r="120" fill="#f2c9a0"/>
<circle cx="278" cy="260" r="11" fill="#222"/><circle cx="362" cy="260" r="11" fill="#222"/>
<path d="M 278 308 q 42 36 84 0" stroke="#9d4b3a" stroke-width="10" fill="none"/>
<path d="M 200 248 Q 320 104 440 248 Q 320 188 200 248 Z" fill="#6f4e37"/></svg>`),
)
  .removeAlpha()
  .png()
  .toBuffer();
const mask = await sharp(
  Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}">
<rect width="${W}" height="${H}"/><ellipse cx="320" cy="270" rx="138" ry="156" fill="#fff"/></svg>`),
)
  .removeAlpha()
  .png()
  .toBuffer();
const photo = await readFile(fixturePath("face-astronaut.png"));

gc();
const atStart = rssMb();
const gpu = await createGpuCapabilities({
  FACE_ENGINE: "composite",
  COMFY_BASE_URL: undefined,
  COMFY_PROMPT_TIMEOUT_SECONDS: 60,
  COMFY_WARMUP: false,
  IPADAPTER_STRENGTH_SCALE: 1,
  VLM_BASE_URL: undefined,
  QWEN_MODEL_ID: "Qwen/Qwen2-VL-2B-Instruct",
  INSIGHTFACE_HOME: undefined,
  MODELS_DIR: undefined,
});
gc();
const ready = rssMb();
const signal = new AbortController().signal;
let stallMs = 0;
let threadCpuMs = 0;
let measured = 0;
for (let round = 0; round < rounds; round++) {
  const analysed = await gpu.analyzer.analyze(photo, { signal });
  if (!analysed.ok) throw new Error(analysed.message);
  const drawn = await gpu.faceEngine.personalize({
    photo: Buffer.alloc(0),
    faceCrop: analysed.faceCrop,
    analysis: JSON.parse(JSON.stringify(analysed.analysis)),
    illustration: page,
    mask,
    prompt: analysed.prompt,
    negativePrompt: "",
    seed: round + 1,
    signal,
    onProgress: () => {},
  });
  const region = await faceRegion(mask, W, H);
  // Only the descriptors: the analysis and the drawing have stalls of their own, not this check's.
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  const cpu = process.threadCpuUsage();
  const own = await gpu.likeness.describe(analysed.faceCrop);
  const found = await gpu.likeness.describe(drawn, region);
  const spent = process.threadCpuUsage(cpu);
  delay.disable();
  threadCpuMs = Math.max(threadCpuMs, (spent.user + spent.system) / 1000);
  if (own && found) measured++;
  stallMs = Math.max(stallMs, delay.max / 1e6);
}
gc();
const afterWork = rssMb();
await new Promise((r) => setTimeout(r, 20_000));
gc();
const atRest = rssMb();
await gpu.close();

line("rounds (photo described, page measured), both found", `${rounds}, ${measured}`);
line("runner thread's CPU while describing, most of a round", `${threadCpuMs.toFixed(0)} ms`);
line("event loop's longest stall while describing", `${stallMs.toFixed(0)} ms`);
line(
  "RSS: start, runner built, after the work, at rest (20 s, GC)",
  [atStart, ready, afterWork, atRest].map((m) => `${m.toFixed(0)} MB`).join(", "),
);
const results: Result[] = [
  { name: "runner thread's CPU time describing two faces", value: threadCpuMs, unit: "ms", target: "", met: null },
  { name: "event loop's longest stall while describing faces", value: stallMs, unit: "ms", target: "", met: null },
  { name: "gpu runner's RSS at rest after likeness measurements", value: atRest, unit: "MB", target: "", met: null },
];
console.log(`RESULTS ${JSON.stringify(results)}`);
