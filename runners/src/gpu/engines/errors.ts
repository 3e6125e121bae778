/** Why a face engine could not produce a background. */
export type FaceEngineErrorCode =
  /** ComfyUI refused the workflow (400 node_errors): a missing model or node pack; retrying cannot help. */
  | "workflow_rejected"
  /** A node failed while running (execution_error). */
  | "execution_failed"
  /** The prompt ran past its time limit; it was deleted from the queue or interrupted. */
  | "timeout"
  /** ComfyUI could not be reached, or lost the prompt (a restart) more often than we resubmit. */
  | "unavailable"
  /** ComfyUI's answer made no sense (no output image, not a PNG). */
  | "bad_output"
  /** The input images could not be used (composite engine). */
  | "invalid_input";

/** A face engine failure with a sentence fit for logs and the page's recorded reason. */
export class FaceEngineError extends Error {
  constructor(
    readonly code: FaceEngineErrorCode,
    message: string,
    /** Whether running the same page again later may succeed (the task rethrows for a retry). */
    readonly retryable: boolean,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = "FaceEngineError";
  }
}
