import type { FaceColours, Manifest, NameForms, PageId } from "@faceapp/core";
import type { Registry } from "prom-client";
import type { LikenessMeter } from "../pipeline/likeness.ts";
import type { Readiness } from "../runtime/health.ts";
import type { RunnerDeps } from "../runtime/task.ts";
import type { WebhookSettings } from "../webhooks/deliver.ts";

// What the tasks need from the engines of each runner kind; gpu/ and render/ provide them.

export type AnalysisOutcome =
  | {
      ok: true;
      /** Stored as the personalisation's analysis (face box, landmarks, attributes, description, sources). */
      analysis: Record<string, unknown>;
      faceCrop: Buffer;
      /** The description as the prompt that keeps the drawn child looking like the photo. */
      prompt: string;
    }
  | { ok: false; code: string; message: string };

export interface Analyzer {
  analyze(photo: Buffer, options: { signal: AbortSignal }): Promise<AnalysisOutcome>;
}

export interface FaceInput {
  photo: Buffer;
  faceCrop: Buffer;
  analysis: Record<string, unknown>;
  illustration: Buffer;
  mask: Buffer;
  /** The colours the manifest names for the page's face, if any. */
  faceColours?: FaceColours | undefined;
  prompt: string;
  negativePrompt: string;
  seed: number;
  signal: AbortSignal;
  onProgress(percent: number): void;
}

export interface FaceEngine {
  readonly name: string;
  /** The illustration with the child's face in the masked region, as PNG. */
  personalize(input: FaceInput): Promise<Buffer>;
}

export interface RenderInput {
  manifest: Manifest;
  page: PageId;
  background: Buffer;
  variables: { child_name: string; child_name_forms?: NameForms; child_age: string };
  /** Reads a file of the book's folder (fonts, logos). */
  readBookFile(relative: string): Promise<Buffer>;
  signal: AbortSignal;
}

export interface PageRenderer {
  /** The print master (JPEG at the page's print size, what the PDFs embed) and the web image (JPEG). */
  render(input: RenderInput): Promise<{ print: Buffer; web: Buffer }>;
  close(): Promise<void>;
}

export interface PrintInput {
  manifest: Manifest;
  childName: string;
  /** Print JPEG keys of page_0 … page_23, cover_front, cover_back; web JPEG keys likewise. */
  printKeys: Map<PageId, string>;
  webKeys: Map<PageId, string>;
  /** Where each file goes. */
  outputKeys: { block: string; cover: string; zip: string };
  signal: AbortSignal;
}

export interface PrintAssembler {
  /** Writes block.pdf, cover.pdf and pages.zip to the bucket, checked before publishing. */
  assemble(input: PrintInput): Promise<void>;
}

/** What the gpu runner's engines give its tasks and its /readyz. */
export interface GpuEngines {
  analyzer: Analyzer;
  faceEngine: FaceEngine;
  /** Face descriptors for the likeness check of face pages (docs/likeness.md). */
  likeness: LikenessMeter;
  readiness: Readiness;
  /** Registers the engines' gauges (ComfyUI's warm-up time and queue depth) on the runner's /metrics. */
  metrics?(registry: Registry): void;
  close(): Promise<void>;
}

export interface GpuDeps extends RunnerDeps {
  analyzer: Analyzer;
  faceEngine: FaceEngine;
  likeness: LikenessMeter;
}

export interface RenderDeps extends RunnerDeps {
  /** The render runner also delivers webhooks: light work that needs no GPU. */
  webhooks: WebhookSettings;
  renderer: PageRenderer;
  assembler: PrintAssembler;
}
