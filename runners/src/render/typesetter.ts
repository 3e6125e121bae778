// One Chromium per runner, reused: a bounded pool of pages, a new browser after N renders or a crash,
// and a per-attempt timeout that kills a hung browser and retries on a fresh one.

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import puppeteer, { type Browser, type Page } from "puppeteer-core";
import { isFinal } from "@faceapp/core";
import { type PlatformFont, platformFonts, type RenderStep, render, type Typeset } from "./capture.ts";
import type { PageDocument } from "./html.ts";
import type { Rect } from "./layout.ts";

export { type PlatformFont, TextDoesNotFitError, type Typeset } from "./capture.ts";

/**
 * What the renders running at once share. Each render slot keeps one page of its own; "page": the
 * slots' pages are tabs of one browser context; "context": each slot's page is in a browser context
 * of its own (its own window, and puppeteer's one-capture-at-a-time lock is per context); "browser":
 * each slot has a browser of its own.
 */
export type Isolation = "page" | "context" | "browser";

export interface TypesetterOptions {
  /** Debian's `chromium-headless-shell` by default (`CHROMIUM_PATH`); a full `chromium` runs in its new headless mode. */
  executablePath?: string;
  /** Pages rendered at once, one slot each; more wait (default 2, one per core). */
  maxPages?: number;
  /** See Isolation (default "context"). */
  isolation?: Isolation;
  /** A browser is replaced after this many renders (`RENDER_BROWSER_MAX_PAGES`, default 500); 1 launches one per page. */
  maxRendersPerBrowser?: number;
  /** The browsers are closed after this long without a render (`RENDER_BROWSER_IDLE_SECONDS` × 1000, default 30 s; 0 keeps them). */
  idleMs?: number;
  /** One attempt's limit (`RENDER_TIMEOUT_SECONDS` × 1000, default 20 s); a hung browser is killed. */
  timeoutMs?: number;
  /** Further attempts after a timeout or a crash (default 2). */
  retries?: number;
  /** Where warnings go (a pino logger fits). */
  logger?: { warn(obj: object, msg: string): void };
}

export class RenderTimeoutError extends Error {
  override name = "RenderTimeoutError";
}

const ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-extensions",
  "--disable-breakpad",
  "--disable-default-apps",
  "--no-first-run",
  "--no-default-browser-check",
  "--disable-dev-shm-usage",
  "--hide-scrollbars",
  "--mute-audio",
  "--font-render-hinting=none",
  "--disable-features=Translate,MediaRouter,OptimizationHints",
  // The GPU (software compositing here) and network services in the browser process, not processes of
  // their own: 12 → 9 processes, ≈ 160 MB less resident in all, no slower (measured, 2 runs).
  "--in-process-gpu",
  "--enable-features=NetworkServiceInProcess2",
  // Below request interception, a second wall: prefetch and preconnect bypass interception, so every
  // host name resolves to nothing and every connection goes to a proxy that does not exist.
  "--host-resolver-rules=MAP * ~NOTFOUND",
  "--proxy-server=socks5://255.255.255.255:1",
  "--proxy-bypass-list=<-loopback>",
  "--dns-prefetch-disable",
];

class Generation {
  inFlight = 0;
  renders = 0;
  dead = false;
  constructor(
    readonly browser: Browser,
    readonly userDataDir: string,
  ) {}
  /** Kills the browser's whole process group (puppeteer starts it detached): a wrapper script's child too. */
  kill() {
    this.dead = true;
    const pid = this.browser.process()?.pid;
    if (pid === undefined) return;
    try {
      process.kill(-pid, "SIGKILL");
    } catch {
      this.browser.process()?.kill("SIGKILL");
    }
  }
}

/** A browser and its successors: one for all slots, or one per slot ("browser" isolation). */
interface Lane {
  gen: Generation | null;
  launching: Promise<Generation> | null;
}

/** One render at a time, on a page of its own kept between renders of the same browser. */
interface Slot {
  lane: Lane;
  gen?: Generation;
  page?: Page;
}

export class Typesetter {
  readonly #opts: Required<Omit<TypesetterOptions, "logger">>;
  readonly #logger: TypesetterOptions["logger"];
  readonly #lanes: Lane[];
  readonly #free: Slot[];
  readonly #waiting: ((slot: Slot) => void)[] = [];
  #closed = false;
  #idle: NodeJS.Timeout | undefined;
  readonly #all = new Set<Generation>();
  /** Counters for logs, tests and the benchmark. */
  readonly stats = { launches: 0, renders: 0, retries: 0, blockedRequests: 0, peakPages: 0, pages: 0, contexts: 0 };

  constructor(options: TypesetterOptions = {}) {
    this.#opts = {
      executablePath: options.executablePath ?? "/usr/lib/chromium/chromium-headless-shell",
      maxPages: options.maxPages ?? 2,
      isolation: options.isolation ?? "context",
      maxRendersPerBrowser: options.maxRendersPerBrowser ?? 500,
      timeoutMs: options.timeoutMs ?? 20_000,
      retries: options.retries ?? 2,
      idleMs: options.idleMs ?? 30_000,
    };
    this.#logger = options.logger;
    const lanes = this.#opts.isolation === "browser" ? this.#opts.maxPages : 1;
    this.#lanes = Array.from({ length: lanes }, () => ({ gen: null, launching: null }));
    this.#free = Array.from({ length: this.#opts.maxPages }, (_, i) => ({ lane: this.#lanes[i % lanes]! }));
  }

  /** The first browser's process id (tests kill it); undefined before the first render. */
  browserPid(): number | undefined {
    return this.#lanes[0]!.gen?.browser.process()?.pid;
  }

  /** The process ids of the live browsers (the benchmark reads their memory). */
  browserPids(): number[] {
    return [...this.#all].flatMap((g) => g.browser.process()?.pid ?? []);
  }

  /**
   * Starts the browsers now if they are not running (after an idle close), so their launch overlaps
   * the caller's other work (renderPage decodes the background meanwhile).
   */
  warm(): void {
    if (this.#closed) return;
    clearTimeout(this.#idle);
    // Re-armed once launched: should no render follow, the browsers still go when idle.
    Promise.all(this.#lanes.map((lane) => this.#generation(lane))).then(
      () => this.#armIdle(),
      () => {},
    );
  }

  /** Typesets a page document: fits every layer, returns its pixels as clips to composite. */
  typeset(doc: PageDocument, safe: Rect, signal?: AbortSignal): Promise<Typeset> {
    return this.#onPage((page, at) => render(page, doc, safe, at), signal);
  }

  /** The fonts Chromium drew each layer of a page document with (how tests prove no glyph fell to tofu). */
  fontsUsed(doc: PageDocument, signal?: AbortSignal): Promise<PlatformFont[][]> {
    return this.#onPage((page, at) => platformFonts(page, doc, at), signal);
  }

  async #onPage<T>(work: (page: Page, at: RenderStep) => Promise<T>, signal?: AbortSignal): Promise<T> {
    let lastError: unknown;
    for (let attempt = 0; attempt <= this.#opts.retries; attempt++) {
      signal?.throwIfAborted();
      const slot = await this.#acquireSlot();
      let gen: Generation | undefined;
      let ok = false;
      try {
        gen = await this.#generation(slot.lane);
        // Counted when taken, so a browser serves exactly maxRendersPerBrowser renders.
        gen.inFlight++;
        if (++gen.renders >= this.#opts.maxRendersPerBrowser && slot.lane.gen === gen) slot.lane.gen = null;
        this.stats.peakPages = Math.max(this.stats.peakPages, this.#opts.maxPages - this.#free.length);
        const at = { step: "page" };
        const result = await this.#withTimeout(
          gen,
          this.#pageOf(slot, gen).then((page) => work(page, at)),
          signal,
          at,
        );
        ok = true;
        this.stats.renders++;
        return result;
      } catch (error) {
        lastError = error;
        if (isFinal(error) || this.#closed || signal?.aborted) throw error;
        this.stats.retries++;
        this.#logger?.warn({ err: error, attempt }, "render failed; retrying on a fresh page");
      } finally {
        if (gen) this.#release(slot, gen, ok);
        this.#releaseSlot(slot);
      }
    }
    throw lastError;
  }

  /** Closes every browser; renders in flight fail. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#closeBrowsers();
  }

  /** Idle: the browsers go (≈ 0.5 GB resident), the next render launches one. */
  async #closeBrowsers() {
    clearTimeout(this.#idle);
    for (const lane of this.#lanes) lane.gen = null;
    await Promise.all([...this.#all].map((g) => this.#closeGeneration(g)));
  }

  async #withTimeout<T>(
    gen: Generation,
    work: Promise<T>,
    signal: AbortSignal | undefined,
    at: { step: string },
  ): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    const stop = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        // A hung renderer rarely recovers: kill the whole browser; the next attempt launches another.
        gen.kill();
        reject(new RenderTimeoutError(`render took longer than ${this.#opts.timeoutMs} ms (at: ${at.step})`));
      }, this.#opts.timeoutMs);
      // Cancelled: stop waiting now; the page is closed rather than reused, since it may be mid-render.
      onAbort = () => reject(signal!.reason);
      if (signal?.aborted) onAbort();
      else signal?.addEventListener("abort", onAbort, { once: true });
    });
    try {
      return await Promise.race([work, stop]);
    } finally {
      clearTimeout(timer);
      if (onAbort) signal?.removeEventListener("abort", onAbort);
      work.catch(() => {});
    }
  }

  async #generation(lane: Lane): Promise<Generation> {
    if (this.#closed) throw new Error("typesetter is closed");
    if (lane.gen && !lane.gen.dead) return lane.gen;
    lane.launching ??= this.#launch(lane).finally(() => {
      lane.launching = null;
    });
    return lane.launching;
  }

  async #launch(lane: Lane): Promise<Generation> {
    const userDataDir = await mkdtemp(path.join(tmpdir(), "faceapp-chromium-"));
    const browser = await puppeteer.launch({
      executablePath: this.#opts.executablePath,
      // chromium-headless-shell is the old headless mode alone: "shell" passes it `--headless`.
      headless: path.basename(this.#opts.executablePath).includes("headless-shell") ? "shell" : true,
      pipe: true,
      args: ARGS,
      userDataDir,
      timeout: 30_000,
      protocolTimeout: Math.max(this.#opts.timeoutMs, 30_000),
    });
    const gen = new Generation(browser, userDataDir);
    browser.on("disconnected", () => {
      gen.dead = true;
      if (lane.gen === gen) lane.gen = null;
      void this.#closeGeneration(gen);
    });
    this.stats.launches++;
    this.#all.add(gen);
    if (this.#closed) {
      await this.#closeGeneration(gen);
      throw new Error("typesetter is closed");
    }
    lane.gen = gen;
    return gen;
  }

  /** The slot's page in this browser, made on first use (in a context of its own with "context"). */
  async #pageOf(slot: Slot, gen: Generation): Promise<Page> {
    if (slot.gen === gen && slot.page) return slot.page;
    const context =
      this.#opts.isolation === "context"
        ? await gen.browser.createBrowserContext()
        : gen.browser.defaultBrowserContext();
    if (this.#opts.isolation === "context") this.stats.contexts++;
    const page = await context.newPage();
    this.stats.pages++;
    slot.gen = gen;
    slot.page = page;
    await page.setJavaScriptEnabled(false);
    await page.setRequestInterception(true);
    page.on("request", (request) => {
      if (request.url().startsWith("data:")) return void request.continue().catch(() => {});
      this.stats.blockedRequests++;
      request.abort("blockedbyclient").catch(() => {});
    });
    return page;
  }

  #release(slot: Slot, gen: Generation, ok: boolean) {
    gen.inFlight--;
    // A failed, cancelled or retired render's page is not reused: it may be mid-render.
    if (slot.page && slot.gen === gen && (!ok || gen.dead || slot.lane.gen !== gen)) {
      const { page } = slot;
      slot.page = undefined;
      slot.gen = undefined;
      const context = page.browserContext();
      (this.#opts.isolation === "context" ? context.close() : page.close()).catch(() => {});
    }
    if (slot.lane.gen !== gen && gen.inFlight === 0) void this.#closeGeneration(gen);
  }

  async #closeGeneration(gen: Generation) {
    if (!this.#all.delete(gen)) return;
    gen.dead = true;
    await Promise.race([gen.browser.close(), new Promise((r) => setTimeout(r, 5_000))]).catch(() => {});
    gen.kill();
    await rm(gen.userDataDir, { recursive: true, force: true }).catch(() => {});
  }

  async #acquireSlot(): Promise<Slot> {
    clearTimeout(this.#idle);
    const slot = this.#free.pop();
    if (slot) return slot;
    return new Promise<Slot>((resolve) => this.#waiting.push(resolve));
  }

  #releaseSlot(slot: Slot) {
    const next = this.#waiting.shift();
    if (next) return next(slot);
    this.#free.push(slot);
    this.#armIdle();
  }

  /** With no render running, the browsers are closed after idleMs unless a render comes first. */
  #armIdle() {
    clearTimeout(this.#idle);
    if (this.#free.length === this.#opts.maxPages && this.#opts.idleMs > 0 && !this.#closed) {
      this.#idle = setTimeout(() => void this.#closeBrowsers(), this.#opts.idleMs).unref();
    }
  }
}
