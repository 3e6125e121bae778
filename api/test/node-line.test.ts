// One Node everywhere: the tests, npm's scripts (npm start, npm run dev, npm test) and the processes they
// spawn run on the Node that package.json pins (the `node` development dependency), not on whatever
// Node the machine has. The images' base is checked against the same pin in deploy/test/compose.test.ts.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { repoRoot } from "@faceapp/core";
import type { Spawned } from "@faceapp/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bearer, METRICS_TOKEN, spawnApiProcess, useApi } from "@faceapp/testkit/api";

const manifest = JSON.parse(fs.readFileSync(path.join(repoRoot, "package.json"), "utf8")) as {
  devDependencies: Record<string, string>;
};
const pinned = `v${manifest.devDependencies.node}`;

describe("the pinned Node", () => {
  it("runs this test", () => {
    expect(process.version).toBe(pinned);
  });

  it("is the node an npm script finds first on its PATH", () => {
    const printed = execFileSync("npm", ["exec", "--offline", "-c", "node -p process.version"], {
      cwd: repoRoot,
      encoding: "utf8",
    });
    expect(printed.trim()).toBe(pinned);
  });

  const api = useApi();
  let started: { server: Spawned; base: string } | undefined;
  beforeAll(async () => {
    started = await spawnApiProcess(api, { METRICS_TOKEN });
  });
  afterAll(async () => {
    await started?.server.stop("SIGKILL");
  });

  it("runs a spawned api process, as its own metrics report", async () => {
    const metrics = await (await fetch(`${started!.base}/metrics`, { headers: bearer(METRICS_TOKEN) })).text();
    expect(metrics).toMatch(new RegExp(`^nodejs_version_info\\{version="${pinned.replaceAll(".", "\\.")}"`, "m"));
  });
});
