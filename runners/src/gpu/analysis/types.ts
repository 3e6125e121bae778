/** A point in pixels of the image it was measured on. */
export interface Point {
  x: number;
  y: number;
}

/** An axis-aligned box in pixels. */
export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Decoded pixels, three channels (RGB), row-major. */
export interface RgbImage {
  data: Uint8Array;
  width: number;
  height: number;
}

/** One face found by a detector backend. */
export interface DetectedFace {
  box: Box;
  /** Detector confidence, 0..1. */
  score: number;
  /** Five points, as InsightFace orders them: left eye, right eye, nose tip, left and right mouth corner (image left/right). */
  landmarks: Point[];
  /** The 68 iBUG points, when the detector gives them (face-api). */
  landmarks68?: Point[];
  age?: number;
  gender?: "female" | "male";
  /** Confidence of `gender`, 0..1. */
  genderScore?: number;
}

/** A face detector with landmarks and age/gender, run in process. */
export interface FaceDetector {
  readonly name: "insightface" | "face-api";
  detect(image: RgbImage): Promise<DetectedFace[]>;
  close(): Promise<void>;
}
