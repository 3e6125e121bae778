import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import * as v from "valibot";
import { describe, expect, it } from "vitest";
import { BaseEnv, EnvError, int, localSecret, parseEnv, repoRoot } from "@faceapp/core";

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
