// face-api in a worker thread of its own (faceapi.ts starts it and ends it when idle): tfjs'
// WebAssembly memory grows with the first detection and never shrinks, but it ends with the worker,
// and the runner's event loop never waits on a network. Plain JavaScript, so the thread needs no
// TypeScript loader. One face-api for both jobs, its nets loaded on the first request that needs them:
//   {id, kind: "detect", width, height, data} (RGB bytes): the photo's faces with the tiny detector,
//     68 landmarks and age/gender → {id, result: faces}, the 68 landmarks as they are;
//   {id, kind: "recognise", width, height, data}: the largest face the SSD detector finds, with its
//     68 landmarks and its 128-number descriptor (the likeness check) → {id, result: face or null};
//   a failure → {id, error}.
// workerData.preload: the kinds whose nets are loaded before {ready: true} is posted.
import { createRequire } from "node:module";
import path from "node:path";
import { parentPort, workerData } from "node:worker_threads";

const require = createRequire(import.meta.url);
const faceapi = require("@vladmandic/face-api/dist/face-api.node-wasm.js");
await faceapi.tf.setBackend("wasm");
await faceapi.tf.ready();
const dir = path.join(path.dirname(require.resolve("@vladmandic/face-api/package.json")), "model");

const NETS = {
  detect: ["tinyFaceDetector", "faceLandmark68Net", "ageGenderNet"],
  recognise: ["ssdMobilenetv1", "faceLandmark68Net", "faceRecognitionNet"],
};
const loading = new Map();
/** The nets of `kind`, each read from disk once. */
async function load(kind) {
  for (const net of NETS[kind]) {
    if (!loading.has(net)) loading.set(net, faceapi.nets[net].loadFromDisk(dir));
    await loading.get(net);
  }
}

const tiny = new faceapi.TinyFaceDetectorOptions({ inputSize: 416, scoreThreshold: workerData.scoreThreshold });
// The SSD detector finds drawn faces the tiny detector misses; a low confidence, as the largest face is taken.
const ssd = new faceapi.SsdMobilenetv1Options({ minConfidence: 0.2 });
const points = (landmarks) => landmarks.positions.map((p) => ({ x: p.x, y: p.y }));

async function detect(tensor) {
  const results = await faceapi.detectAllFaces(tensor, tiny).withFaceLandmarks().withAgeAndGender();
  return results.map((r) => ({
    box: { x: r.detection.box.x, y: r.detection.box.y, width: r.detection.box.width, height: r.detection.box.height },
    score: r.detection.score,
    points: points(r.landmarks),
    age: r.age,
    gender: r.gender,
    genderScore: r.genderProbability,
  }));
}

async function recognise(tensor) {
  const faces = await faceapi.detectAllFaces(tensor, ssd).withFaceLandmarks().withFaceDescriptors();
  const face = faces.sort((a, b) => b.detection.box.width - a.detection.box.width)[0];
  return face ? { descriptor: face.descriptor, points: points(face.landmarks) } : null;
}

for (const kind of workerData.preload ?? []) await load(kind);

parentPort.on("message", async ({ id, kind, width, height, data }) => {
  let tensor;
  try {
    if (!(kind in NETS)) throw new Error(`no such request: ${kind}`);
    await load(kind);
    tensor = faceapi.tf.tensor3d(new Int32Array(data), [height, width, 3], "int32");
    parentPort.postMessage({ id, result: kind === "detect" ? await detect(tensor) : await recognise(tensor) });
  } catch (error) {
    parentPort.postMessage({ id, error: String(error?.stack ?? error) });
  } finally {
    tensor?.dispose();
  }
});
parentPort.postMessage({ ready: true });
