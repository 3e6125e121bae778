import { PHOTO_LIMITS } from "@faceapp/core";
import sharp from "sharp";
import { cropFace } from "./crop.ts";
import { decodePhoto } from "./decode.ts";
import { type Description, detectorDescription, promptFor, vlmDescription } from "./describe.ts";
import { createFaceApiDetector, type FaceApiWorker } from "./faceapi.ts";
import { createInsightFaceDetector } from "./insightface/backend.ts";
import { prominentFaces, sharpness } from "./quality.ts";
import type { Box, DetectedFace, FaceDetector, Point } from "./types.ts";
import { describeWithVlm, type VlmConfig } from "./vlm.ts";

export interface AnalyzerConfig {
  /** Folder with InsightFace's ONNX files (SCRFD detector, genderage); face-api is used without them. */
  insightfaceHome?: string;
  /** SCRFD's square input size, default 640 (buffalo_l's det_10g). */
  insightfaceInputSize?: number;
  /** The OpenAI-compatible VLM; without it the description comes from the detector. */
  vlm?: VlmConfig;
  /** A detector to use instead of choosing one (tests). */
  detector?: FaceDetector;
  /** face-api's worker thread to detect in when face-api is the detector (the gpu runner shares it with the likeness check). */
  faceApi?: FaceApiWorker;
  /** Longest side of the working image, default 1280. */
  workingSide?: number;
  /** Smallest face side in photo pixels, default 96. */
  minFaceSide?: number;
  /** Smallest `sharpness()` of the face, default 20. */
  minSharpness?: number;
  /** A second face at least this share of the largest face's size makes the photo ambiguous; default 0.5. */
  prominentRatio?: number;
  /** Side of the face crop PNG, default 512. */
  cropSize?: number;
}

export type RefusalReason =
  | "unreadable_image"
  | "image_too_large"
  | "no_face"
  | "several_faces"
  | "face_too_small"
  | "face_too_blurred";

/** A photo the product cannot use, with a message written for the parent. */
export interface Refusal {
  accepted: false;
  reason: RefusalReason;
  message: string;
  /** Measured figures behind the refusal, for logs and support. */
  details: Record<string, unknown>;
}

/** The JSON-safe analysis to store with the personalization. */
export interface AnalysisRecord {
  detector: FaceDetector["name"];
  photo: { width: number; height: number };
  face: {
    /** In photo pixels after EXIF orientation. */
    box: Box;
    score: number;
    landmarks: Point[];
    age: number | null;
    gender: "female" | "male" | null;
    genderScore: number | null;
  };
  quality: { faceSide: number; sharpness: number; facesFound: number };
  /** The face crop's size and its landmarks in crop pixels: five always, 68 when the detector gave them. */
  crop: { size: number; landmarks: Point[]; landmarks68?: Point[] };
  description: Description;
  /** Why the VLM did not describe the child, when it did not. */
  vlmProblem: string | null;
  prompt: string;
}

export interface Accepted {
  accepted: true;
  analysis: AnalysisRecord;
  /** The face crop PNG (`crop.size` square) to store beside the analysis. */
  faceCrop: Buffer;
}

export type AnalysisOutcome = Accepted | Refusal;

export interface Analyzer {
  readonly detector: FaceDetector["name"];
  analyze(photo: Uint8Array, options?: { signal?: AbortSignal }): Promise<AnalysisOutcome>;
  close(): Promise<void>;
}

function refuse(reason: RefusalReason, message: string, details: Record<string, unknown> = {}): Refusal {
  return { accepted: false, reason, message, details };
}

/** Builds the photo analyzer: insightface when its models are mounted, else face-api. */
export async function createAnalyzer(config: AnalyzerConfig = {}): Promise<Analyzer> {
  const detector =
    config.detector ??
    (config.insightfaceHome
      ? await createInsightFaceDetector(config.insightfaceHome, config.insightfaceInputSize)
      : null) ??
    (await createFaceApiDetector(config.faceApi ? { worker: config.faceApi } : {}));
  const minFaceSide = config.minFaceSide ?? 96;
  const minSharpness = config.minSharpness ?? 20;

  async function analyze(photo: Uint8Array, options: { signal?: AbortSignal } = {}): Promise<AnalysisOutcome> {
    const { signal } = options;
    const decoded = await decodePhoto(photo, { workingSide: config.workingSide ?? 1280 });
    if (!decoded.ok) {
      return decoded.reason === "image_too_large"
        ? refuse(
            "image_too_large",
            `This photo cannot be used (${decoded.detail}). Please upload a photo of at most ${PHOTO_LIMITS.maxPixels / 1e6} megapixels, no more than ${PHOTO_LIMITS.maxAspect} times as long as it is wide.`,
            { size: decoded.detail },
          )
        : refuse("unreadable_image", "We could not open this file as a photo. Please upload a JPEG or PNG photo.", {
            detail: decoded.detail,
          });
    }
    signal?.throwIfAborted();
    const { image, scale } = decoded;
    const faces = await detector.detect(image);
    signal?.throwIfAborted();
    const prominent = prominentFaces(faces, config.prominentRatio ?? 0.5);
    const face = prominent[0];
    if (!face) {
      return refuse(
        "no_face",
        "We could not find a face in this photo. Please upload a photo where your child's face is clearly visible and looking towards the camera.",
      );
    }
    if (prominent.length > 1) {
      return refuse(
        "several_faces",
        `We found ${prominent.length} faces in this photo. Please upload a photo with only your child in it.`,
        { faces: prominent.length },
      );
    }
    const faceSide = Math.max(face.box.width, face.box.height) / scale;
    if (faceSide < minFaceSide) {
      return refuse(
        "face_too_small",
        "Your child's face is too small in this photo. Please upload a closer photo in which the face fills more of the picture.",
        { faceSide: Math.round(faceSide), minFaceSide },
      );
    }
    const sharp_ = sharpness(image, face.box);
    if (sharp_ < minSharpness) {
      return refuse(
        "face_too_blurred",
        "This photo is too blurred to draw your child from. Please upload a sharper photo, taken in good light and held still.",
        { sharpness: Math.round(sharp_ * 10) / 10, minSharpness },
      );
    }
    const crop = await cropFace(image, face.box, face.landmarks, config.cropSize ?? 512, face.landmarks68);
    const { description, vlmProblem } = await describe(face, crop.png, signal);
    const toPhoto = (p: Point) => ({ x: p.x / scale, y: p.y / scale });
    const analysis: AnalysisRecord = {
      detector: detector.name,
      photo: decoded.original,
      face: {
        box: {
          x: face.box.x / scale,
          y: face.box.y / scale,
          width: face.box.width / scale,
          height: face.box.height / scale,
        },
        score: face.score,
        landmarks: face.landmarks.map(toPhoto),
        age: face.age ?? null,
        gender: face.gender ?? null,
        genderScore: face.genderScore ?? null,
      },
      quality: { faceSide: Math.round(faceSide), sharpness: Math.round(sharp_ * 10) / 10, facesFound: faces.length },
      crop: {
        size: crop.size,
        landmarks: crop.landmarks,
        ...(crop.landmarks68 ? { landmarks68: crop.landmarks68 } : {}),
      },
      description,
      vlmProblem,
      prompt: promptFor(description),
    };
    return { accepted: true, analysis, faceCrop: crop.png };
  }

  async function describe(
    face: DetectedFace,
    cropPng: Buffer,
    signal?: AbortSignal,
  ): Promise<{ description: Description; vlmProblem: string | null }> {
    if (!config.vlm) return { description: detectorDescription(face), vlmProblem: "no VLM configured" };
    const jpeg = await sharp(cropPng).jpeg({ quality: 90 }).toBuffer();
    const outcome = await describeWithVlm(config.vlm, jpeg, signal);
    if (outcome.ok) return { description: vlmDescription(outcome.description), vlmProblem: null };
    return { description: detectorDescription(face), vlmProblem: outcome.reason };
  }

  return { detector: detector.name, analyze, close: () => detector.close() };
}
