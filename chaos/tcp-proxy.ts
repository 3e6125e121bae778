// A TCP proxy in front of a shared service (the rig's s3rver), which a fault test can stop (connections
// refused, open ones cut) and start again on the same port, or slow down, without touching the
// service that other test files use.
import net from "node:net";

export interface TcpProxy {
  /** `http://127.0.0.1:<port>`: the address to give clients instead of the upstream's. */
  url: string;
  port: number;
  /** Connections accepted so far. */
  readonly connections: number;
  /** The request lines (`PUT /bucket/key HTTP/1.1`) seen going to the upstream, in order. */
  readonly requests: string[];
  /** Stops listening and cuts every open connection: clients get ECONNREFUSED until `start()`. */
  stop(): Promise<void>;
  /** Listens again on the same port. */
  start(): Promise<void>;
  /** Holds every chunk coming back from the upstream for `ms` (0: none): a slow service, in order. */
  delay(ms: number): void;
  /**
   * While on, answers are swallowed: a connection that gets one then stays silent for good, as a
   * half-open connection to a hung server does. Requests still reach the upstream.
   */
  hang(on?: boolean): void;
  close(): Promise<void>;
}

/** Starts a proxy on a free loopback port forwarding to `upstream` (`http://host:port`). */
export async function startTcpProxy(upstream: string): Promise<TcpProxy> {
  const target = new URL(upstream);
  const open = new Set<net.Socket>();
  let delayMs = 0;
  let hanging = false;
  let connections = 0;
  const requests: string[] = [];

  const server = net.createServer((client) => {
    connections++;
    const remote = net.connect(Number(target.port), target.hostname);
    open.add(client);
    open.add(remote);
    const cut = () => {
      client.destroy();
      remote.destroy();
      open.delete(client);
      open.delete(remote);
    };
    let silent = false;
    // A silent connection stays open on the client's side whatever the upstream does: only the
    // client's own timeout ends it.
    const upstreamGone = () => {
      if (!silent) return cut();
      remote.destroy();
      open.delete(remote);
    };
    client.on("error", cut).on("close", cut);
    remote.on("error", upstreamGone).on("close", upstreamGone);
    client.pipe(remote);
    client.on("data", (chunk: Buffer) => {
      // A request's head starts a chunk in practice; bodies are never mistaken for one in our tests.
      const line = chunk.subarray(0, 2048).toString("latin1").split("\r\n", 1)[0]!;
      if (/^[A-Z]+ \S+ HTTP\/1\.[01]$/.test(line)) requests.push(line);
    });
    // Answers go through an ordered queue so a delay holds each chunk without reordering them.
    const queue: Array<{ due: number; chunk: Buffer | null }> = [];
    let pumping = false;
    const pump = async () => {
      if (pumping) return;
      pumping = true;
      while (queue.length > 0) {
        const { due, chunk } = queue.shift()!;
        const wait = due - Date.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        if (client.destroyed) break;
        if (chunk === null) client.end();
        else client.write(chunk);
      }
      pumping = false;
    };
    remote.on("data", (chunk: Buffer) => {
      silent ||= hanging;
      if (silent) return;
      queue.push({ due: Date.now() + delayMs, chunk });
      void pump();
    });
    remote.on("end", () => {
      if (silent) return;
      queue.push({ due: Date.now() + delayMs, chunk: null });
      void pump();
    });
  });

  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => {
        server.off("error", reject);
        resolve();
      });
    });
  const stop = async () => {
    if (!server.listening) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of open) socket.destroy();
    open.clear();
    await closed;
  };

  await listen(0);
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    get connections() {
      return connections;
    },
    requests,
    stop,
    start: () => (server.listening ? Promise.resolve() : listen(port)),
    delay(ms) {
      delayMs = ms;
    },
    hang(on = true) {
      hanging = on;
    },
    close: stop,
  };
}
