// The GPU runner's capabilities as plain library code: photo analysis and the face engines. The job
// tasks (analyze_photo, personalize_page) wrap these; nothing here knows about graphile-worker.
//
// At start-up (once per process):
//   const analyzer = await analyzerFromEnv(env);   // insightface if its ONNX files are mounted, else face-api
//   const engine = faceEngineFromEnv(env);          // FACE_ENGINE: comfyui (workflow checked here) or composite
//   /readyz: await engine.readiness()               // {engine, ready, status: ready|warming|unavailable, reason?, queueRemaining?, warmUpSeconds?}
//   (ComfyUI with warmUp: the first call that finds the server able to run the workflow starts the warm-up prompt)
// analyze_photo:
//   const outcome = await analyzer.analyze(photoBytes, { signal });
//   outcome.accepted ? store outcome.faceCrop (keys.faceCrop) and outcome.analysis (JSON)
//                    : end the work as analysis_failed with outcome.reason and outcome.message (no retry)
// personalize_page (run two at once so ComfyUI always has the next prompt queued):
//   const png = await engine.personalize({ faceCrop, landmarks: analysis.crop.landmarks,
//     landmarks68: analysis.crop.landmarks68 (face-api only; the composite engine's outline), illustration, mask,
//     prompt: pagePrompt(analysis.prompt, art.prompt), negativePrompt: art.negative_prompt, seed, signal,
//     onProgress: (percent) => publish(...), onQueued: (promptId) => record it on the page row });
//   FaceEngineError: rethrow when `retryable` (graphile-worker retries), else record `message` as the reason.

export {
  type Accepted,
  type AnalysisOutcome,
  type AnalysisRecord,
  type Analyzer,
  type AnalyzerConfig,
  createAnalyzer,
  type Refusal,
  type RefusalReason,
} from "./analysis/analyzer.ts";
export {
  type Description,
  type DescriptionSource,
  pagePrompt,
  promptFor,
  VlmDescription,
} from "./analysis/describe.ts";
export {
  createFaceApiDetector,
  createFaceApiWorker,
  type FaceApiWorker,
  type RecognisedFace,
} from "./analysis/faceapi.ts";
export {
  createInsightFaceDetector,
  createInsightFaceDetectorFromFiles,
  findInsightFaceFiles,
} from "./analysis/insightface/backend.ts";
export type { Box, DetectedFace, FaceDetector, Point } from "./analysis/types.ts";
export type { VlmConfig } from "./analysis/vlm.ts";
export {
  type ComfyEngine,
  type ComfyEngineConfig,
  createComfyEngine,
  type PendingPage,
} from "./engines/comfyui/engine.ts";
export { describeRejection } from "./engines/comfyui/http.ts";
export { FaceEngineError, type FaceEngineErrorCode } from "./engines/errors.ts";
export type { EngineReadiness, FaceEngine, PersonalizeRequest } from "./engines/types.ts";
export { checkParamMap, faceWorkflowParams, loadFaceWorkflow } from "./workflow/params.ts";
export { type CompositeEngineConfig, createCompositeEngine } from "./engines/composite.ts";
export { analyzerFromEnv, faceEngineFromEnv, type GpuEnv } from "./config.ts";
export { createGpuCapabilities } from "./wiring.ts";
