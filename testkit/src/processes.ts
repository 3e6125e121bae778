import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { repoRoot, type S3Config } from "@faceapp/core";

export interface Spawned {
  child: ChildProcess;
  /** Every JSON log line so far. */
  logs: Record<string, unknown>[];
  /** Resolves with the first log line that matches. */
  waitForLog(match: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** Sends a signal and resolves with the exit code (null when killed by the signal). */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  exited: Promise<number | null>;
  /** What it wrote to stderr (a crash's stack lands there, not in the JSON log). */
  stderr(): string;
}

/** The environment a process of ours needs to use this test file's database, bucket and Redis. */
export function serviceEnv(databaseUrl: string, s3: S3Config, redisUrl?: string | null): Record<string, string> {
  return {
    DATABASE_URL: databaseUrl,
    AWS_ENDPOINT_URL: s3.endpoint ?? "",
    AWS_ACCESS_KEY_ID: s3.credentials?.accessKeyId ?? "",
    AWS_SECRET_ACCESS_KEY: s3.credentials?.secretAccessKey ?? "",
    AWS_REGION_NAME: s3.region,
    S3_BUCKET_NAME: s3.bucket,
    ...(redisUrl ? { REDIS_URL: redisUrl } : {}),
  };
}

/** Runs one of the project's entry points (`runners/src/render-runner.ts`, …) as its own process. */
export function spawnEntry(entry: string, env: Record<string, string>): Spawned {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "faceapp-proc-"));
  const child = spawn(process.execPath, ["--import", "tsx", entry], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH, NODE_ENV: "test", LOG_LEVEL: "info", DATA_DIR: dataDir, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const logs: Record<string, unknown>[] = [];
  const waiters = new Set<() => void>();
  let buffered = "";
  let stderr = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    buffered += chunk.toString("utf8");
    const lines = buffered.split("\n");
    buffered = lines.pop() ?? "";
    for (const line of lines) {
      try {
        logs.push(JSON.parse(line));
      } catch {
        logs.push({ msg: line });
      }
    }
    for (const wake of waiters) wake();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString("utf8");
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  void exited.then(() => {
    fs.rmSync(dataDir, { recursive: true, force: true });
    for (const wake of waiters) wake();
  });
  return {
    child,
    logs,
    exited,
    stderr: () => stderr,
    waitForLog(match, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = logs.find(match);
          if (found) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(found);
          } else if (child.exitCode !== null || child.signalCode !== null) {
            waiters.delete(check);
            clearTimeout(timer);
            reject(
              new Error(
                `${entry} exited (${child.exitCode ?? child.signalCode}) before the log line came:\n${stderr.slice(-2000)}`,
              ),
            );
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`${entry}: no such log line within ${timeoutMs} ms; stderr:\n${stderr.slice(-2000)}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    stop(signal = "SIGTERM") {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** A runner process of a kind, resolved once it says it is ready. */
export async function spawnRunner(kind: "gpu" | "render", env: Record<string, string>): Promise<Spawned> {
  const runner = spawnEntry(`runners/src/${kind}-runner.ts`, env);
  await runner.waitForLog((line) => line.msg === "runner ready");
  return runner;
}

/** A TCP port nothing listens on right now. */
export async function freePort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address() as net.AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}
