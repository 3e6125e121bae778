// The GPU runner's capabilities as plain library code: photo analysis and the face engines. The job
// tasks (analyze_photo, personalize_page) wrap these; nothing here knows about graphile-worker.

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
export { type Description, type DescriptionSource, promptFor, VlmDescription } from "./analysis/describe.ts";
export { createFaceApiDetector } from "./analysis/faceapi.ts";
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
