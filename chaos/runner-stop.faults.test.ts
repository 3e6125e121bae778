// A runner told to stop while its database hangs (a half-open connection: answers never come) still
// ends, a margin after its drain time, saying why. A stop that waits on the database for ever leaves an
// orphan under `npm run dev` (seen on a loaded machine) and a pod stuck terminating; the jobs it held
// come back to the queue when their locks go stale (runner-kill.faults.test.ts).
import { serviceEnv, spawnRunner } from "@faceapp/testkit";
import { useApi } from "@faceapp/testkit/api";
import { afterAll, describe, expect, it } from "vitest";
import { sleep } from "./lib.ts";
import { startTcpProxy, type TcpProxy } from "./tcp-proxy.ts";

const api = useApi();
let proxy: TcpProxy | undefined;
afterAll(async () => {
  await proxy?.close();
});

describe("a runner stopping while its database hangs", () => {
  it("exits by itself with code 1 after its drain time and the margin, saying so", async () => {
    const database = new URL(api.pg.url);
    proxy = await startTcpProxy(`http://${database.hostname}:${database.port}`);
    database.host = `127.0.0.1:${proxy.port}`;
    const runner = await spawnRunner("render", {
      ...serviceEnv(database.toString(), api.s3Config),
      RUNNER_DRAIN_SECONDS: "1",
    });
    try {
      proxy.hang(true);
      // A wait, not a limit: drain (1 s) and margin (10 s) on a machine busy with other test files.
      const ended = await Promise.race([runner.stop("SIGTERM"), sleep(90_000).then(() => "still running")]);
      expect(ended).toBe(1);
      expect(runner.logs.some((l) => l.msg === "did not stop in time; exiting")).toBe(true);
    } finally {
      await runner.stop("SIGKILL");
    }
  }, 120_000);
});
