import * as v from "valibot";
import { VlmDescription } from "./describe.ts";

export interface VlmConfig {
  /** The OpenAI-compatible base URL, e.g. `http://vllm:8000/v1`. */
  baseUrl: string;
  model: string;
  /** Per request; the whole call makes at most two requests. */
  timeoutMs?: number;
}

export type VlmOutcome =
  | { ok: true; description: VlmDescription; attempts: number }
  | { ok: false; reason: string; attempts: number };

const ChatAnswer = v.object({
  choices: v.pipe(v.array(v.object({ message: v.object({ content: v.nullable(v.string()) }) })), v.minLength(1)),
});

const instructions = `You describe a child's photo for an illustrator. Answer with one JSON object and nothing else:
{"gender": "girl"|"boy",
 "hair_colour": "black"|"dark brown"|"brown"|"light brown"|"blonde"|"red"|"auburn"|"grey"|"white",
 "hair_length": "bald"|"very short"|"short"|"medium"|"long",
 "hair_style": a few lower-case words such as "straight", "curly", "wavy with a fringe", "ponytail",
 "eye_colour": "brown"|"dark brown"|"hazel"|"green"|"blue"|"grey",
 "line": one short sentence describing the child's look (no name, no background)}`;

/** Pulls the JSON object out of a model's answer (models like to wrap it in a code fence). */
export function parseVlmAnswer(content: string): { ok: true; value: VlmDescription } | { ok: false; problem: string } {
  const fenced = content.match(/```(?:json)?\s*([\s\S]*?)```/);
  const text = (fenced ? fenced[1]! : content).trim();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, problem: "the answer was not valid JSON" };
  }
  const parsed = v.safeParse(VlmDescription, json);
  if (parsed.success) return { ok: true, value: parsed.output };
  const issues = parsed.issues.map((i) => `${v.getDotPath(i) ?? "answer"}: ${i.message}`).slice(0, 5);
  return { ok: false, problem: `the JSON did not match: ${issues.join("; ")}` };
}

/**
 * Asks the VLM for the child's description; a malformed answer gets one retry that names the
 * problem. Never throws for the model's sake: the caller falls back to the detector.
 */
export async function describeWithVlm(
  config: VlmConfig,
  jpeg: Buffer,
  signal?: AbortSignal,
  fetchImpl: typeof fetch = fetch,
): Promise<VlmOutcome> {
  const url = `${config.baseUrl.replace(/\/+$/, "")}/chat/completions`;
  const messages: unknown[] = [
    { role: "system", content: instructions },
    {
      role: "user",
      content: [
        { type: "image_url", image_url: { url: `data:image/jpeg;base64,${jpeg.toString("base64")}` } },
        { type: "text", text: "Describe this child as the JSON object." },
      ],
    },
  ];
  let reason = "";
  for (let attempt = 1; attempt <= 2; attempt++) {
    signal?.throwIfAborted();
    let content: string;
    try {
      const timeout = AbortSignal.timeout(config.timeoutMs ?? 60_000);
      const res = await fetchImpl(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          model: config.model,
          messages,
          temperature: 0,
          max_tokens: 300,
          response_format: { type: "json_object" },
        }),
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      const answer = v.parse(ChatAnswer, await res.json());
      content = answer.choices[0]!.message.content ?? "";
    } catch (error) {
      signal?.throwIfAborted();
      return { ok: false, reason: `the VLM could not be asked: ${(error as Error).message}`, attempts: attempt };
    }
    const parsed = parseVlmAnswer(content);
    if (parsed.ok) return { ok: true, description: parsed.value, attempts: attempt };
    reason = parsed.problem;
    messages.push(
      { role: "assistant", content },
      { role: "user", content: `That was not usable: ${parsed.problem}. Answer again with only the JSON object.` },
    );
  }
  return { ok: false, reason: `the VLM answered malformed JSON twice (${reason})`, attempts: 2 };
}
