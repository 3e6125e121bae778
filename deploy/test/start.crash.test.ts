// `npm start` when something dies: a part that exits takes the rest down cleanly (exit 1), and if the
// parent itself is killed with SIGKILL (no chance to stop anything), its children stop by themselves.
import { afterEach, describe, expect, it } from "vitest";
import { descendants, holding, type Started, startApp, stillRunning, survivors } from "./start-helpers.ts";

let app: Started | undefined;
afterEach(() => {
  app?.cleanup();
  app = undefined;
});

/** The api's process among the parent's descendants. */
function apiPid(tree: Map<number, string>): number {
  const found = [...tree].find(([, command]) => command.includes("api/src/server.ts"));
  if (!found) throw new Error(`no api process in ${[...tree.values()].join("\n")}`);
  return found[0];
}

describe("npm start when a part dies", () => {
  it("stops everything else and exits 1 when the api is killed", async () => {
    app = await startApp();
    const tree = descendants(app.child.pid!);
    process.kill(apiPid(tree), "SIGKILL");
    const code = await Promise.race([app.exited, new Promise((r) => setTimeout(() => r("timeout"), 60_000))]);
    expect(code, app.output().slice(-3000)).toBe(1);
    expect(app.output()).toMatch(/api exited unexpectedly; stopping everything/);
    const left = [...tree].filter(([pid, command]) => stillRunning(pid, command));
    expect(left.map(([pid, command]) => `${pid} ${command.slice(0, 120)}`)).toEqual([]);
    expect(holding(app.dataDir)).toEqual([]);
  }, 150_000);

  it("leaves no orphan when npm start itself is killed with SIGKILL: its children stop themselves", async () => {
    app = await startApp({ START_STOP_TIMEOUT_SECONDS: "5" });
    const tree = descendants(app.child.pid!);
    expect([...tree.values()].some((c) => c.includes("postgres"))).toBe(true);
    process.kill(app.child.pid!, "SIGKILL");
    expect(await survivors(tree, 45_000)).toEqual([]);
    expect(holding(app.dataDir)).toEqual([]);
  }, 150_000);
});
