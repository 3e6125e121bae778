// `npm run dev` killed with SIGKILL (no chance to stop anything): its children stop by themselves. The
// api and runners run under node's watcher, which would outlive it, so each child's guard watches the
// dev process itself and then stops its watcher (scripts/orphan-guard.mjs).
import { repoRoot } from "@faceapp/core";
import { afterEach, describe, expect, it } from "vitest";
import { descendants, holding, type Started, startApp, stillRunning, survivors } from "./start-helpers.ts";

let app: Started | undefined;
/** The processes below the dev process before it was killed: its cleanup cannot find them after. */
let tree = new Map<number, string>();
afterEach(() => {
  for (const [pid, command] of tree)
    if (stillRunning(pid, command))
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // gone meanwhile
      }
  tree = new Map();
  app?.cleanup();
  app = undefined;
});

describe("npm run dev when it is killed", () => {
  it("leaves no orphan, watchers included, when the dev process is killed with SIGKILL", async () => {
    // The dev script itself (not npm around it), as start.crash.test.ts kills npm start's.
    app = await startApp({ START_STOP_TIMEOUT_SECONDS: "5" }, 150_000, repoRoot, [
      process.execPath,
      "--import",
      "tsx",
      "scripts/dev.ts",
    ]);
    tree = descendants(app.child.pid!);
    const watchers = [...tree.values()].filter((c) => c.split(" ").includes("--watch"));
    expect(watchers).toHaveLength(3);
    expect([...tree.values()].some((c) => c.includes("postgres"))).toBe(true);
    process.kill(app.child.pid!, "SIGKILL");
    // A wait, not a limit: each watcher's child drains and stops the stores first, which on a machine
    // busy with the browser tests has taken past 45 s.
    expect(await survivors(tree, 120_000)).toEqual([]);
    expect(holding(app.dataDir)).toEqual([]);
  }, 300_000);
});
