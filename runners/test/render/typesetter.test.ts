// The browser is one per typesetter (chromium-headless-shell), reused; a crash or a hang costs a retry
// on a fresh browser, not the page.

import { afterEach, describe, expect, it, vi } from "vitest";
import { layer, readBookFile, testManifest } from "./fixtures.ts";
import { fontFaceCss, pageArt, pageDocument, RenderTimeoutError, safeRect, Typesetter } from "./imports.ts";

const manifest = testManifest({ page_1: [layer({ template: "Hello, {child_name}!" })] });
const art = pageArt(manifest, "page_1");
const safe = safeRect(manifest, "page_1", art);
const doc = async (name = "Олеся") =>
  pageDocument(manifest, "page_1", art, { child_name: name }, await fontFaceCss(manifest, readBookFile));

const open: Typesetter[] = [];
const typesetter = (options: ConstructorParameters<typeof Typesetter>[0] = {}) => {
  const t = new Typesetter(options);
  open.push(t);
  return t;
};
afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.close()));
});

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe("the typesetter's browser", () => {
  it("is launched once and reused for many pages", async () => {
    const t = typesetter();
    for (let i = 0; i < 4; i++) await t.typeset(await doc(`Name ${i}`), safe);
    expect(t.stats).toMatchObject({ launches: 1, renders: 4, retries: 0 });
  });

  it("is replaced after a crash (its process killed) and the next page renders", async () => {
    const t = typesetter();
    await t.typeset(await doc(), safe);
    const pid = t.browserPid()!;
    process.kill(pid, "SIGKILL");
    const result = await t.typeset(await doc(), safe);
    expect(result.clips.length).toBe(1);
    expect(t.browserPid()).not.toBe(pid);
    expect(t.stats.launches).toBe(2);
  });

  it("is replaced when it dies during a render, and that render is retried", async () => {
    const t = typesetter();
    await t.typeset(await doc(), safe);
    const pid = t.browserPid()!;
    const rendering = t.typeset(await doc("Taras"), safe);
    process.kill(pid, "SIGKILL");
    const result = await rendering;
    expect(result.clips.length).toBe(1);
    expect(t.stats.launches).toBe(2);
    expect(t.stats.retries).toBeGreaterThanOrEqual(1);
  });

  it("is killed when a render hangs past the timeout, and the render is retried on a fresh one", async () => {
    const t = typesetter({ timeoutMs: 3_000 });
    await t.typeset(await doc(), safe);
    const pid = t.browserPid()!;
    // A stopped process answers nothing: the very picture of a hung renderer.
    process.kill(pid, "SIGSTOP");
    try {
      const result = await t.typeset(await doc("Taras"), safe);
      expect(result.clips.length).toBe(1);
      expect(t.stats.retries).toBe(1);
      expect(t.browserPid()).not.toBe(pid);
      expect(alive(pid)).toBe(false);
    } finally {
      if (alive(pid)) process.kill(pid, "SIGKILL");
    }
  });

  it("gives up after its retries with the timeout as the reason", async () => {
    const t = typesetter({ timeoutMs: 1, retries: 1 });
    await expect(t.typeset(await doc(), safe)).rejects.toBeInstanceOf(RenderTimeoutError);
    expect(t.stats.retries).toBe(2);
  });

  it("is replaced after N pages, and renders at most maxPages at once", async () => {
    const t = typesetter({ maxRendersPerBrowser: 3, maxPages: 2 });
    const docs = await Promise.all([1, 2, 3, 4, 5, 6, 7].map((i) => doc(`N${i}`)));
    await Promise.all(docs.map((d) => t.typeset(d, safe)));
    expect(t.stats.renders).toBe(7);
    expect(t.stats.launches).toBe(3);
    expect(t.stats.retries).toBe(0);
    expect(t.stats.peakPages).toBe(2);
    // Three launches and seven renders: on a loaded machine that alone took 12 s; a hang guard only.
  }, 120_000);
});

describe("at rest", () => {
  it("the browser is closed after idleMs without a render, and the next render launches another", async () => {
    const t = typesetter({ idleMs: 300 });
    await Promise.all([t.typeset(await doc("A"), safe), t.typeset(await doc("B"), safe)]);
    const pid = t.browserPid()!;
    expect(alive(pid)).toBe(true);
    await vi.waitFor(() => expect(alive(pid)).toBe(false), { timeout: 30_000, interval: 100 });
    expect(t.browserPids()).toEqual([]);
    expect((await t.typeset(await doc(), safe)).clips).toHaveLength(1);
    expect(t.stats).toMatchObject({ launches: 2, renders: 3, retries: 0 });
  });
});

describe("warm()", () => {
  it("launches the browser ahead of a render, which then uses it; unused, it still goes when idle", async () => {
    const t = typesetter({ idleMs: 300 });
    t.warm();
    await vi.waitFor(() => expect(t.browserPids()).toHaveLength(1), { timeout: 30_000, interval: 50 });
    const pid = t.browserPid()!;
    await vi.waitFor(() => expect(alive(pid)).toBe(false), { timeout: 30_000, interval: 100 });
    t.warm();
    expect((await t.typeset(await doc(), safe)).clips).toHaveLength(1);
    expect(t.stats).toMatchObject({ launches: 2, renders: 1, retries: 0 });
  });
});

describe("renders at once", () => {
  // Pages of one browser context are tabs of one window: Chromium may never draw the hidden one, and
  // its capture then waits for the render timeout. Each slot has a page of its own in a context of
  // its own, kept for the browser's life.
  it("each have a page in a browser context of their own, one per slot, reused", async () => {
    const t = typesetter({ maxPages: 2 });
    const docs = await Promise.all([1, 2, 3, 4, 5, 6].map((i) => doc(`N${i}`)));
    await Promise.all(docs.map((d) => t.typeset(d, safe)));
    expect(t.stats).toMatchObject({ launches: 1, renders: 6, retries: 0, peakPages: 2, pages: 2, contexts: 2 });
  });

  it("each have a browser of their own with isolation 'browser'", async () => {
    const t = typesetter({ maxPages: 2, isolation: "browser" });
    const docs = await Promise.all([1, 2, 3, 4].map((i) => doc(`N${i}`)));
    await Promise.all(docs.map((d) => t.typeset(d, safe)));
    expect(t.stats).toMatchObject({ launches: 2, renders: 4, retries: 0, pages: 2, contexts: 0 });
    expect(new Set(t.browserPids()).size).toBe(2);
  });
});

describe("a cancelled render", () => {
  it("stops at once with the signal's reason, and the typesetter goes on working", async () => {
    const t = typesetter();
    await t.typeset(await doc(), safe);
    const controller = new AbortController();
    const rendering = t.typeset(await doc("Taras"), safe, controller.signal);
    controller.abort(new Error("canceled by the parent"));
    await expect(rendering).rejects.toThrow("canceled by the parent");
    expect(t.stats.retries).toBe(0);
    expect((await t.typeset(await doc(), safe)).clips).toHaveLength(1);
  });
});
