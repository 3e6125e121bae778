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

export interface TypesetterOptions {
  /** Debian's Chromium by default (`CHROMIUM_PATH`). */
  executablePath?: string;
  /** Pages rendered at once; more wait (default 2, one per core). */
  maxPages?: number;
  /** The browser is replaced after this many renders (`RENDER_BROWSER_MAX_PAGES`, default 500); 1 launches one per page. */
  maxRendersPerBrowser?: number;
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
  idle: Page[] = [];
  inFlight = 0;
  renders = 0;
  dead = false;
  constructor(
    readonly browser: Browser,
    readonly userDataDir: string,
  ) {}
  kill() {
    this.dead = true;
    this.browser.process()?.kill("SIGKILL");
  }
}

export class Typesetter {
  readonly #opts: Required<Omit<TypesetterOptions, "logger">>;
  readonly #logger: TypesetterOptions["logger"];
  #gen: Generation | null = null;
  #launching: Promise<Generation> | null = null;
  #active = 0;
  #waiting: (() => void)[] = [];
  #closed = false;
  readonly #all = new Set<Generation>();
  /** Counters for logs, tests and the benchmark. */
  readonly stats = { launches: 0, renders: 0, retries: 0, blockedRequests: 0, peakPages: 0 };

  constructor(options: TypesetterOptions = {}) {
    this.#opts = {
      executablePath: options.executablePath ?? "/usr/bin/chromium",
      maxPages: options.maxPages ?? 2,
      maxRendersPerBrowser: options.maxRendersPerBrowser ?? 500,
      timeoutMs: options.timeoutMs ?? 20_000,
      retries: options.retries ?? 2,
    };
    this.#logger = options.logger;
  }

  /** The current browser's process id (tests kill it); undefined before the first render. */
  browserPid(): number | undefined {
    return this.#gen?.browser.process()?.pid;
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
      await this.#acquireSlot();
      let gen: Generation | undefined;
      let page: Page | undefined;
      let ok = false;
      try {
        gen = await this.#generation();
        // Counted when taken, so a browser serves exactly maxRendersPerBrowser renders.
        gen.inFlight++;
        if (++gen.renders >= this.#opts.maxRendersPerBrowser && this.#gen === gen) this.#gen = null;
        this.stats.peakPages = Math.max(this.stats.peakPages, this.#active);
        page = gen.idle.pop() ?? (await this.#newPage(gen));
        const at = { step: "" };
        const result = await this.#withTimeout(gen, work(page, at), signal, at);
        ok = true;
        this.stats.renders++;
        return result;
      } catch (error) {
        lastError = error;
        if (isFinal(error) || this.#closed || signal?.aborted) throw error;
        this.stats.retries++;
        this.#logger?.warn({ err: error, attempt }, "render failed; retrying on a fresh page");
      } finally {
        if (gen) this.#release(gen, page, ok);
        this.#releaseSlot();
      }
    }
    throw lastError;
  }

  /** Closes every browser; renders in flight fail. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#gen = null;
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

  async #generation(): Promise<Generation> {
    if (this.#closed) throw new Error("typesetter is closed");
    if (this.#gen && !this.#gen.dead) return this.#gen;
    this.#launching ??= this.#launch().finally(() => {
      this.#launching = null;
    });
    return this.#launching;
  }

  async #launch(): Promise<Generation> {
    const userDataDir = await mkdtemp(path.join(tmpdir(), "faceapp-chromium-"));
    const browser = await puppeteer.launch({
      executablePath: this.#opts.executablePath,
      headless: true,
      pipe: true,
      args: ARGS,
      userDataDir,
      timeout: 30_000,
      protocolTimeout: Math.max(this.#opts.timeoutMs, 30_000),
    });
    const gen = new Generation(browser, userDataDir);
    browser.on("disconnected", () => {
      gen.dead = true;
      if (this.#gen === gen) this.#gen = null;
      void this.#closeGeneration(gen);
    });
    this.stats.launches++;
    this.#all.add(gen);
    if (this.#closed) {
      await this.#closeGeneration(gen);
      throw new Error("typesetter is closed");
    }
    this.#gen = gen;
    return gen;
  }

  async #newPage(gen: Generation): Promise<Page> {
    const page = await gen.browser.newPage();
    await page.setJavaScriptEnabled(false);
    await page.setRequestInterception(true);
    page.on("request", (request) => {
      if (request.url().startsWith("data:")) return void request.continue().catch(() => {});
      this.stats.blockedRequests++;
      request.abort("blockedbyclient").catch(() => {});
    });
    return page;
  }

  #release(gen: Generation, page: Page | undefined, ok: boolean) {
    gen.inFlight--;
    if (page) {
      if (ok && !gen.dead && this.#gen === gen) gen.idle.push(page);
      else page.close().catch(() => {});
    }
    if (this.#gen !== gen && gen.inFlight === 0) void this.#closeGeneration(gen);
  }

  async #closeGeneration(gen: Generation) {
    if (!this.#all.delete(gen)) return;
    gen.dead = true;
    await Promise.race([gen.browser.close(), new Promise((r) => setTimeout(r, 5_000))]).catch(() => {});
    gen.browser.process()?.kill("SIGKILL");
    await rm(gen.userDataDir, { recursive: true, force: true }).catch(() => {});
  }

  async #acquireSlot() {
    if (this.#active < this.#opts.maxPages) {
      this.#active++;
      return;
    }
    await new Promise<void>((resolve) => this.#waiting.push(resolve));
  }

  #releaseSlot() {
    const next = this.#waiting.shift();
    if (next) next();
    else this.#active--;
  }
}
