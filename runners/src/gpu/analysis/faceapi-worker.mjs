// face-api in a worker thread of its own (faceapi.ts starts it and ends it when idle): tfjs'
// WebAssembly memory grows with the first detection and never shrinks, but it ends with the worker.
// Plain JavaScript, so the thread needs no TypeScript loader. Messages: {id, width, height, data}
// (RGB bytes) in; {id, faces} or {id, error} out, the 68 landmarks as they are.
import { createRequire } from "node:module";
import path from "node:path";
import { parentPort, workerData } from "node:worker_threads";

const require = createRequire(import.meta.url);
const faceapi = require("@vladmandic/face-api/dist/face-api.node-wasm.js");
await faceapi.tf.setBackend("wasm");
await faceapi.tf.ready();
const dir = path.join(path.dirname(require.resolve("@vladmandic/face-api/package.json")), "model");
await faceapi.nets.tinyFaceDetector.loadFromDisk(dir);
await faceapi.nets.faceLandmark68Net.loadFromDisk(dir);
await faceapi.nets.ageGenderNet.loadFromDisk(dir);
const options = new faceapi.TinyFaceDetectorOptions({ inputSize: 416, scoreThreshold: workerData.scoreThreshold });

parentPort.on("message", async ({ id, width, height, data }) => {
  const tensor = faceapi.tf.tensor3d(new Int32Array(data), [height, width, 3], "int32");
  try {
    const results = await faceapi.detectAllFaces(tensor, options).withFaceLandmarks().withAgeAndGender();
    const faces = results.map((r) => ({
      box: { x: r.detection.box.x, y: r.detection.box.y, width: r.detection.box.width, height: r.detection.box.height },
      score: r.detection.score,
      points: r.landmarks.positions.map((p) => ({ x: p.x, y: p.y })),
      age: r.age,
      gender: r.gender,
      genderScore: r.genderProbability,
    }));
    parentPort.postMessage({ id, faces });
  } catch (error) {
    parentPort.postMessage({ id, error: String(error?.stack ?? error) });
  } finally {
    tensor.dispose();
  }
});
parentPort.postMessage({ ready: true });
