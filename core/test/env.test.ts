import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import * as v from "valibot";
import { describe, expect, it } from "vitest";
import { BaseEnv, EnvError, int, localSecret, parseEnv, repoRoot } from "@faceapp/core";
import { resolveDatabase, resolveS3, startLocalS3 } from "@faceapp/core/local";

const Schema = v.object({ ...BaseEnv, PORT: int(8000, 1, 65535) });

describe("parseEnv", () => {
  it("applies defaults and freezes the result", () => {
    const env = parseEnv(Schema, {});
    expect(env.PORT).toBe(8000);
    expect(env.NODE_ENV).toBe("development");
    expect(env.AWS_REGION_NAME).toBe("us-east-1");
    expect(Object.isFrozen(env)).toBe(true);
  });

  it("reports every bad variable at once, by name", () => {
    let error: unknown;
    try {
      parseEnv(Schema, {
        PORT: "eighty",
        DATABASE_URL: "not a url",
        NODE_ENV: "staging",
        S3_BUCKET_NAME: "Bad_Bucket",
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(EnvError);
    const problems = (error as EnvError).problems.join("\n");
    for (const name of ["PORT", "DATABASE_URL", "NODE_ENV", "S3_BUCKET_NAME"]) expect(problems).toContain(name);
    expect((error as EnvError).problems).toHaveLength(4);
  });

  it("treats an empty value as unset", () => {
    expect(parseEnv(Schema, { DATABASE_URL: "" }).DATABASE_URL).toBeUndefined();
  });
});

describe("localSecret", () => {
  it("is generated once and then kept", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "faceapp-secret-"));
    const first = localSecret(dir, "jwt-secret");
    expect(first.length).toBeGreaterThanOrEqual(48);
    expect(localSecret(dir, "jwt-secret")).toBe(first);
    expect(fs.statSync(path.join(dir, "jwt-secret")).mode & 0o777).toBe(0o600);
    fs.rmSync(dir, { recursive: true });
  });
});

// The real start-up path: the api's env.ts in a child process.
function loadApiEnv(vars: Record<string, string>) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "faceapp-env-"));
  const result = spawnSync(
    process.execPath,
    [
      "--import",
      "tsx",
      "-e",
      'const { env } = await import("./api/src/env.ts"); console.log(JSON.stringify({ len: env.JWT_SECRET_KEY.length }))',
    ],
    { cwd: repoRoot, encoding: "utf8", env: { PATH: process.env.PATH, DATA_DIR: dataDir, ...vars } },
  );
  fs.rmSync(dataDir, { recursive: true, force: true });
  return result;
}

describe("the api's configuration at start-up", () => {
  it("refuses to start in production without JWT_SECRET_KEY, naming every problem", () => {
    const result = loadApiEnv({ NODE_ENV: "production", PORT: "0x50", JWT_ALGORITHM: "none" });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("JWT_SECRET_KEY: is required in production");
    expect(result.stderr).toContain("PORT:");
    expect(result.stderr).toContain("JWT_ALGORITHM:");
  });

  it("refuses a short secret in any environment", () => {
    const result = loadApiEnv({ NODE_ENV: "production", JWT_SECRET_KEY: "short" });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("JWT_SECRET_KEY: must be at least 32 characters");
  });

  it("generates a development secret when none is given", () => {
    const result = loadApiEnv({ NODE_ENV: "development" });
    expect(result.stderr).toBe("");
    expect(JSON.parse(result.stdout).len).toBeGreaterThanOrEqual(48);
  });
});

// A production start, by each app's real entry point: it exits 1 at its configuration, naming what is
// wrong, before any embedded service could start (nothing is written to DATA_DIR).
function startInProduction(entry: string, vars: Record<string, string>) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "faceapp-prod-"));
  const result = spawnSync(process.execPath, ["--import", "tsx", entry], {
    cwd: repoRoot,
    encoding: "utf8",
    timeout: 60_000,
    env: { PATH: process.env.PATH, NODE_ENV: "production", DATA_DIR: dataDir, LOG_LEVEL: "silent", ...vars },
  });
  const written = fs.readdirSync(dataDir);
  fs.rmSync(dataDir, { recursive: true, force: true });
  return { ...result, written };
}

const strongSecret = () => randomBytes(32).toString("hex");

describe("production settings", () => {
  it("refuse a JWT_SECRET_KEY of 32 spaces (other weak secrets: deploy/test/env.test.ts)", () => {
    const result = loadApiEnv({ NODE_ENV: "production", JWT_SECRET_KEY: " ".repeat(32) });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("JWT_SECRET_KEY: is too predictable for production");
  });

  it("accept a secret from `openssl rand -hex 32`", () => {
    const result = loadApiEnv({
      NODE_ENV: "production",
      JWT_SECRET_KEY: strongSecret(),
      WEBHOOK_ENCRYPTION_KEY: strongSecret(),
      DATABASE_URL: "postgres://faceapp:x@db:5432/faceapp",
      AWS_ENDPOINT_URL: "http://minio:9000",
    });
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
  });

  it("demand the webhook secrets' key, and refuse webhooks to local addresses", () => {
    const result = loadApiEnv({
      NODE_ENV: "production",
      JWT_SECRET_KEY: strongSecret(),
      WEBHOOKS_ALLOW_LOCAL: "true",
      DATABASE_URL: "postgres://faceapp:x@db:5432/faceapp",
      AWS_ENDPOINT_URL: "http://minio:9000",
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("WEBHOOK_ENCRYPTION_KEY: must be set in production");
    expect(result.stderr).toContain("WEBHOOKS_ALLOW_LOCAL: must not be true in production");
  });

  it("start no render runner without the webhook secrets' key; the gpu runner needs none", () => {
    const stores = { DATABASE_URL: "postgres://faceapp:x@127.0.0.1:9/faceapp", AWS_ENDPOINT_URL: "http://127.0.0.1:9" };
    const result = startInProduction("runners/src/render-runner.ts", stores);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("WEBHOOK_ENCRYPTION_KEY: must be set in production");
    expect(result.written).toEqual([]);
  });

  it.each([
    ["api/src/server.ts", ["DATABASE_URL", "AWS_ENDPOINT_URL"]],
    ["runners/src/render-runner.ts", ["DATABASE_URL", "AWS_ENDPOINT_URL"]],
    ["sql/src/cli.ts", ["DATABASE_URL"]],
  ])(
    "%s exits 1 naming each unset store instead of starting an embedded one",
    (entry, names) => {
      const result = startInProduction(entry, { JWT_SECRET_KEY: strongSecret() });
      expect(result.status).toBe(1);
      for (const name of names) expect(result.stderr).toContain(`${name}: must be set in production`);
      expect(result.written).toEqual([]);
      // With the one set, only the other is named.
      if (names.length === 2) {
        const one = startInProduction(entry, {
          JWT_SECRET_KEY: strongSecret(),
          DATABASE_URL: "postgres://x@127.0.0.1:1/x",
        });
        expect(one.status).toBe(1);
        expect(one.stderr).not.toContain("DATABASE_URL");
        expect(one.stderr).toContain("AWS_ENDPOINT_URL: must be set in production");
      }
    },
    120_000,
  );

  it("are enforced again where the embedded services start (a last wall)", async () => {
    const env = { NODE_ENV: "production", AWS_REGION_NAME: "us-east-1", S3_BUCKET_NAME: "faceapp" };
    const ports = { LOCAL_POSTGRES_PORT: 1, LOCAL_S3_PORT: 1 };
    await expect(resolveDatabase({ ...env, ...ports }, os.tmpdir())).rejects.toThrow(/DATABASE_URL is unset/);
    await expect(resolveS3({ ...env, ...ports }, os.tmpdir())).rejects.toThrow(/AWS_ENDPOINT_URL is unset/);
  });
});

describe("the embedded S3 store (development)", () => {
  const external = Object.values(os.networkInterfaces())
    .flat()
    .find((i) => i && i.family === "IPv4" && !i.internal)?.address;

  it.skipIf(!external)("listens on loopback only", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "faceapp-s3-"));
    const s3 = await startLocalS3({ dir, port: 0, bucket: "loopback" });
    const port = Number(new URL(s3.url).port);
    const connect = (host: string) =>
      new Promise<string>((resolve) => {
        const socket = net.connect(port, host);
        socket.once("connect", () => {
          socket.destroy();
          resolve("connected");
        });
        socket.once("error", (err: NodeJS.ErrnoException) => resolve(err.code ?? "error"));
      });
    try {
      expect(new URL(s3.url).hostname).toBe("127.0.0.1");
      expect(await connect("127.0.0.1")).toBe("connected");
      expect(await connect(external!)).toBe("ECONNREFUSED");
    } finally {
      await s3.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
