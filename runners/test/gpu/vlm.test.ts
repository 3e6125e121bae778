import { readFile } from "node:fs/promises";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { fixturePath } from "@faceapp/testkit";
import { startVlmDouble, type VlmDouble } from "../../../testkit/src/doubles/vlm.ts";
import { parseVlmAnswer } from "../../src/gpu/analysis/vlm.ts";
import { createAnalyzer, createFaceApiDetector, type FaceDetector } from "../../src/gpu/index.ts";

const valid = JSON.stringify({
  gender: "girl",
  hair_colour: "light brown",
  hair_length: "short",
  hair_style: "wavy with a fringe",
  eye_colour: "brown",
  line: "a cheerful girl with a wide smile",
});

let photo: Buffer;
let detector: FaceDetector;
beforeAll(async () => {
  photo = await readFile(fixturePath("face-astronaut.png"));
  // One face-api detector shared by the analyzers of this file (loading it is the slow part).
  detector = await createFaceApiDetector();
});

let double: VlmDouble | undefined;
afterEach(async () => {
  await double?.close();
  double = undefined;
});

async function analyzeWith(script: Array<string | { status: number }>) {
  double = await startVlmDouble(script);
  const analyzer = await createAnalyzer({ detector, vlm: { baseUrl: double.url, model: "Qwen/Qwen2-VL-2B-Instruct" } });
  const outcome = await analyzer.analyze(photo);
  if (!outcome.accepted) throw new Error(`refused: ${outcome.reason}`);
  return outcome.analysis;
}

describe("the child's description from a VLM", () => {
  it("uses a valid JSON answer, every field sourced to the VLM, and builds the prompt from it", async () => {
    const analysis = await analyzeWith([valid]);
    expect(double!.requests).toHaveLength(1);
    const request = double!.requests[0]!;
    expect(request.model).toBe("Qwen/Qwen2-VL-2B-Instruct");
    expect(request.response_format).toEqual({ type: "json_object" });
    const content = request.messages[1]!.content as Array<{ type: string; image_url?: { url: string } }>;
    expect(content.find((c) => c.type === "image_url")?.image_url?.url).toMatch(/^data:image\/jpeg;base64,\/9j\//);
    expect(analysis.description).toMatchObject({ gender: "girl", hair_colour: "light brown", eye_colour: "brown" });
    expect(Object.values(analysis.description.sources)).toEqual(Array(6).fill("vlm"));
    expect(analysis.vlmProblem).toBeNull();
    expect(analysis.prompt).toBe(
      "a girl, short light brown wavy with a fringe hair, brown eyes, a cheerful girl with a wide smile, children's book illustration, soft colours, friendly face",
    );
  });

  it("retries once on malformed JSON, telling the model what was wrong", async () => {
    const analysis = await analyzeWith(["Sure! Here is the description: {gender: girl", valid]);
    expect(double!.requests).toHaveLength(2);
    const retry = double!.requests[1]!.messages;
    expect(retry.at(-1)).toMatchObject({ role: "user" });
    expect(String(retry.at(-1)!.content)).toContain("not valid JSON");
    expect(analysis.description.sources.hair_colour).toBe("vlm");
  });

  it("falls back to the detector after malformed JSON twice, recording the source of each field", async () => {
    const wrongShape = JSON.stringify({ gender: "girl", hair_colour: "purple" });
    const analysis = await analyzeWith(["not json", wrongShape]);
    expect(double!.requests).toHaveLength(2);
    expect(analysis.vlmProblem).toMatch(/malformed JSON twice.*hair_colour/);
    expect(analysis.description).toMatchObject({ gender: "girl", hair_colour: null });
    expect(analysis.description.sources).toMatchObject({ gender: "detector", hair_colour: "none", line: "none" });
  });

  it("falls back to the detector when the VLM answers an error", async () => {
    const analysis = await analyzeWith([{ status: 503 }]);
    expect(analysis.vlmProblem).toMatch(/could not be asked: HTTP 503/);
    expect(analysis.description.sources.gender).toBe("detector");
  });

  it("reads JSON wrapped in a code fence and rejects values outside the schema", () => {
    expect(parseVlmAnswer("```json\n" + valid + "\n```")).toMatchObject({ ok: true });
    expect(parseVlmAnswer(JSON.stringify({ ...JSON.parse(valid), eye_colour: "violet" }))).toMatchObject({
      ok: false,
      problem: expect.stringContaining("eye_colour"),
    });
    expect(parseVlmAnswer(JSON.stringify({ ...JSON.parse(valid), extra: 1 }))).toMatchObject({ ok: false });
  });
});
