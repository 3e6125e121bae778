import type { Point } from "../analysis/types.ts";

/** One face page to personalise. */
export interface PersonalizeRequest {
  /** The face crop PNG from analysis (already oriented; what ComfyUI's IPAdapter sees as the child). */
  faceCrop: Buffer;
  /** The five landmarks in face-crop pixels (analysis `crop.landmarks`). */
  landmarks: Point[];
  /**
   * The detector's 68 points (iBUG order) in face-crop pixels, when the analysis kept them (face-api
   * does; InsightFace gives five): the composite engine cuts the face along the jaw and brows.
   */
  landmarks68?: Point[];
  /**
   * The colours the book names for this page's face (manifest `face_colours`, `#rrggbb`): the
   * composite engine draws in them instead of the ones it reads from the illustration.
   */
  colours?: { skin: string; shadow?: string | undefined; line?: string | undefined };
  /** The page's illustration (PNG). */
  illustration: Buffer;
  /** The page's face mask (PNG, white = face region), same size as the illustration. */
  mask: Buffer;
  prompt: string;
  negativePrompt?: string;
  seed: number;
  signal?: AbortSignal;
  /** Page progress, 0..100, never decreasing; 100 once the background is ready. */
  onProgress?: (percent: number) => void;
  /** ComfyUI's prompt id once queued (for logs and the page row); other engines do not call it. */
  onQueued?: (promptId: string) => void;
}

/** What `/readyz` needs from the engine. */
export interface EngineReadiness {
  engine: "comfyui" | "composite";
  ready: boolean;
  /**
   * `ready` (takes pages), `warming` (ComfyUI runs the warm-up prompt: reachable, but the first page
   * would pay the model load) or `unavailable` (`reason` says why).
   */
  status: "ready" | "warming" | "unavailable";
  /** Why it is not ready, one sentence for an operator. */
  reason?: string;
  /** ComfyUI: the seconds the warm-up prompt took, once it has run. */
  warmUpSeconds?: number;
  /** ComfyUI: reachable and its queue depth (pending + running). */
  reachable?: boolean;
  queueRemaining?: number;
  /** Why it is not ready (unreachable). */
  problem?: string;
  /** ComfyUI: the version its /system_stats reports. */
  comfyuiVersion?: string | undefined;
  /** What the server would refuse or miss in the workflow, one line each an operator can act on. */
  problems?: string[];
}

/** A face engine: both write the same background PNG (the illustration's size) and report progress the same way. */
export interface FaceEngine {
  readonly name: "comfyui" | "composite";
  personalize(request: PersonalizeRequest): Promise<Buffer>;
  readiness(): Promise<EngineReadiness>;
  close(): Promise<void>;
}
