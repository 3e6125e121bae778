import WebSocket from "ws";

/** A JSON frame of ComfyUI's WebSocket. */
export interface ComfyMessage {
  type: string;
  data: Record<string, unknown> & { prompt_id?: string };
}

type Listener = (message: ComfyMessage) => void;

/**
 * One WebSocket per client id, kept open while anyone listens, reconnected with the same id when it
 * drops (ComfyUI then re-sends `executing` for our running prompt). Messages are routed by prompt id.
 */
export class ComfySocket {
  private ws: WebSocket | undefined;
  private open: Promise<void> | undefined;
  private readonly listeners = new Map<string, Set<Listener>>();
  private closed = false;
  private retryMs: number;
  private timer: NodeJS.Timeout | undefined;
  /** Times the socket was re-opened after a drop (for logs and tests). */
  reconnects = 0;
  private everOpened = false;

  constructor(
    private readonly wsUrl: string,
    readonly clientId: string,
    private readonly minRetryMs = 50,
    private readonly maxRetryMs = 2_000,
  ) {
    this.retryMs = minRetryMs;
  }

  /** Subscribes to one prompt's messages; returns the unsubscribe function. */
  listen(promptId: string, listener: Listener): () => void {
    let set = this.listeners.get(promptId);
    if (!set) {
      set = new Set();
      this.listeners.set(promptId, set);
    }
    set.add(listener);
    this.ensure();
    return () => {
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(promptId);
    };
  }

  /** Resolves once the socket is open, or after `ms` regardless: history polling covers a missing socket. */
  async ready(ms: number): Promise<void> {
    this.ensure();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.open, new Promise((r) => (timer = setTimeout(r, ms)))]).catch(() => {});
    clearTimeout(timer);
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.ws?.terminate();
    this.ws = undefined;
  }

  private ensure(): void {
    if (this.closed || this.ws || this.timer) return;
    const url = new URL(this.wsUrl);
    url.searchParams.set("clientId", this.clientId);
    const ws = new WebSocket(url);
    this.ws = ws;
    this.open = new Promise<void>((resolve, reject) => {
      ws.once("open", () => {
        if (this.everOpened) this.reconnects++;
        this.everOpened = true;
        this.retryMs = this.minRetryMs;
        resolve();
      });
      ws.once("error", reject);
    });
    this.open.catch(() => {});
    ws.on("error", () => {});
    ws.on("message", (raw, isBinary) => {
      // Binary frames are previews; the runner has no use for them.
      if (isBinary) return;
      let message: ComfyMessage;
      try {
        message = JSON.parse(raw.toString()) as ComfyMessage;
      } catch {
        return;
      }
      const id = message.data?.prompt_id;
      if (typeof id !== "string") return;
      for (const l of this.listeners.get(id) ?? []) l(message);
    });
    ws.on("close", () => {
      if (this.ws === ws) this.ws = undefined;
      if (this.closed || this.listeners.size === 0) return;
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.ensure();
      }, this.retryMs);
      this.retryMs = Math.min(this.maxRetryMs, this.retryMs * 2);
    });
  }
}
