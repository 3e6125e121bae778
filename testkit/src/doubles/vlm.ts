import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

// An OpenAI-protocol chat-completions double (what vLLM serves): answers from a script, records the
// requests it got.

/** One scripted answer: the assistant's text, or an HTTP error status. */
export type VlmScriptItem = string | { status: number };

export interface VlmRequest {
  model: string;
  messages: Array<{ role: string; content: unknown }>;
  [key: string]: unknown;
}

export class VlmDouble {
  /** The OpenAI base URL (ends in /v1), as VLM_BASE_URL takes it. */
  url = "";
  readonly requests: VlmRequest[] = [];
  private server!: Server;

  /** Answers in order; when the script runs out, the last answer repeats. */
  constructor(public script: VlmScriptItem[] = []) {}

  async listen(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        if (req.method !== "POST" || req.url !== "/v1/chat/completions") {
          res.writeHead(404).end();
          return;
        }
        const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as VlmRequest;
        this.requests.push(body);
        const item = this.script[Math.min(this.requests.length - 1, this.script.length - 1)] ?? "";
        if (typeof item !== "string") {
          res.writeHead(item.status, { "content-type": "application/json" });
          res.end(JSON.stringify({ error: { message: "scripted failure" } }));
          return;
        }
        res.writeHead(200, { "content-type": "application/json" });
        res.end(
          JSON.stringify({
            id: `chatcmpl-${this.requests.length}`,
            object: "chat.completion",
            created: Math.floor(Date.now() / 1000),
            model: body.model,
            choices: [{ index: 0, message: { role: "assistant", content: item }, finish_reason: "stop" }],
            usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 },
          }),
        );
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1`;
    return this;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** Starts a VLM double answering `script` in order. */
export function startVlmDouble(script: VlmScriptItem[]): Promise<VlmDouble> {
  return new VlmDouble(script).listen();
}
