// The whole flow by keyboard alone, in a real headless Chromium against the real stack (api, runners,
// Postgres, s3rver, Redis): Tab, Shift+Tab, Enter, Space, Escape and the arrow keys, never the mouse.
// At every stop the focus ring is measured against what is painted beside it, and focus must never
// fall to the page body; what a screen reader would hear from the live regions is recorded and read.
// Once in English and once in Ukrainian (the language chosen with the keyboard in the header).
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fixturePath, type Spawned, spawnRunner } from "@faceapp/testkit";
import type { Browser, BrowserContext, Page } from "puppeteer-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { useApi } from "@faceapp/testkit/api";
import { type Lang, type MessageKey, translate } from "../src/lib/i18n.ts";
import {
  CHROMIUM,
  type ConsoleProblem,
  type FocusIndicator,
  focusIndicator,
  hasChromium,
  launchBrowser,
  type serveApi,
  serveFlow,
  shooter,
  waitForDownload,
  watchConsole,
} from "./e2e.helpers.ts";

const ASTRONAUT = fixturePath("face-astronaut.png");
const LONG = 300_000;
const CHILD = "Zoë";
/** The most Tab presses from one control to the next wanted one (a screen has fewer stops). */
const MAX_TABS = 40;

/** What a screen reader would be told: each live region's text as it changes, and any focus lost. */
interface Heard {
  region: string;
  text: string;
  path: string;
  /** Counts the screens shown so far (a new path is a new visit). */
  visit: number;
}
interface Recorded {
  heard: Heard[];
  lost: { path: string; from: string }[];
}

/**
 * Installed before the app's own scripts in every document: a MutationObserver that notes each live
 * region's text whenever it changes (regions inside another are heard as part of it), and a check
 * after every task that focus has not fallen to the body while the tab has focus.
 */
function record(): void {
  const w = window as unknown as { a11y: Recorded };
  w.a11y = { heard: [], lost: [] };
  const LIVE = "[aria-live]:not([aria-live=off]), [role=status], [role=alert], [role=log]";
  const last = new WeakMap<Element, string>();
  let visit = 0;
  let shownPath = "";
  const name = (el: Element) => el.getAttribute("data-testid") ?? (el.id || el.className || el.localName);
  const scan = () => {
    if (location.pathname !== shownPath) {
      shownPath = location.pathname;
      visit += 1;
    }
    for (const el of document.querySelectorAll(LIVE)) {
      if (el.parentElement?.closest(LIVE)) continue;
      const text = (el.textContent ?? "").trim().replace(/\s+/g, " ");
      if (last.get(el) === text) continue;
      last.set(el, text);
      if (text) w.a11y.heard.push({ region: name(el), text, path: location.pathname, visit });
    }
  };
  // Before the first stop focus is on the body, as in any fresh page; after it, never again.
  let lastFocused = "";
  let lost = false;
  const watchFocus = () => {
    const at = document.activeElement;
    if (at && at !== document.body) {
      lastFocused = `${at.localName}.${at.className}`;
      lost = false;
    } else if (lastFocused && !lost && document.hasFocus()) {
      lost = true;
      w.a11y.lost.push({ path: location.pathname, from: lastFocused });
    }
  };
  const start = () => {
    new MutationObserver(scan).observe(document.documentElement, {
      subtree: true,
      childList: true,
      characterData: true,
    });
    setInterval(watchFocus, 20);
  };
  if (document.documentElement) start();
  else document.addEventListener("DOMContentLoaded", start);
}

if (!hasChromium) console.warn(`[web keyboard e2e] skipped: no Chromium at ${CHROMIUM} (set CHROMIUM_PATH)`);

describe.skipIf(!hasChromium)("the whole flow by keyboard alone", { timeout: LONG }, () => {
  const api = useApi({ env: { SSE_HEARTBEAT_SECONDS: "1" } });
  const runners: Spawned[] = [];
  let origin: string;
  let server: Awaited<ReturnType<typeof serveApi>>;
  let browser: Browser;
  const problems: ConsoleProblem[] = [];
  const shot = shooter("keyboard");
  let current: Page | undefined;

  beforeAll(async () => {
    const flow = await serveFlow(api);
    ({ server, origin } = flow);
    const env = flow.env;
    runners.push(await spawnRunner("gpu", env), await spawnRunner("render", env));
    browser = await launchBrowser();
  }, LONG);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await Promise.all(runners.map((r) => r.stop()));
  });

  afterEach(async (ctx) => {
    if (ctx.task.result?.state === "fail" && current)
      await shot(current, `FAILED-${ctx.task.name.slice(0, 30).replace(/\W+/g, "-")}`, { fullPage: false });
  });

  /** Every focus stop of a walk, for the report when one fails. */
  const stops: FocusIndicator[] = [];

  /** Focus is on something, not the body, and its ring shows at 3:1 against what is beside it. */
  async function expectFocusShown(page: Page, where: string): Promise<FocusIndicator> {
    const f = await focusIndicator(page);
    stops.push(f);
    expect(f.focused, `${where}: focus fell to the body`).not.toBe("body");
    expect(f.contrast, `${where}: ${JSON.stringify(f)}`).toBeGreaterThanOrEqual(3);
    return f;
  }

  /** Whether the focused element matches a selector (and, when given, contains a text). */
  const focusedIs = (page: Page, selector: string, text?: string) =>
    page.evaluate(
      (sel, txt) => {
        const el = document.activeElement;
        return !!el && el.matches(sel) && (!txt || (el.textContent ?? "").includes(txt));
      },
      selector,
      text ?? "",
    );

  /** Presses Tab (or Shift+Tab) until the wanted control has focus, checking the ring at every stop. */
  async function tabTo(page: Page, selector: string, options: { text?: string; back?: boolean } = {}) {
    if (await focusedIs(page, selector, options.text)) return expectFocusShown(page, `already on ${selector}`);
    for (let n = 0; n < MAX_TABS; n++) {
      if (options.back) {
        await page.keyboard.down("Shift");
        await page.keyboard.press("Tab");
        await page.keyboard.up("Shift");
      } else await page.keyboard.press("Tab");
      await expectFocusShown(page, `Tab ${n + 1} towards ${selector}`);
      if (await focusedIs(page, selector, options.text)) return;
    }
    throw new Error(`${MAX_TABS} presses of Tab never reached ${selector} ${options.text ?? ""}`);
  }

  /** Presses a key on the focused control, waits for what it does, and checks where focus went. */
  async function press(page: Page, key: string, until: () => Promise<unknown>, where: string) {
    await page.keyboard.press(key as Parameters<Page["keyboard"]["press"]>[0]);
    await until();
    return expectFocusShown(page, where);
  }

  const ready = (page: Page, selector: string) => page.waitForSelector(selector, { timeout: LONG });
  const statusIs = (page: Page, s: string) => ready(page, `section.personalization[data-status="${s}"]`);
  const statusIn = (page: Page, list: string[]) =>
    page.waitForFunction(
      (l) => l.includes(document.querySelector("section.personalization")?.getAttribute("data-status") ?? ""),
      { timeout: LONG },
      list,
    );

  async function walk(lang: Lang, context: BrowserContext): Promise<void> {
    const t = (key: MessageKey, vars?: Record<string, string | number>) => translate(lang, key, vars);
    const page = await context.newPage();
    current = page;
    stops.length = 0;
    watchConsole(page, problems, () => `keyboard ${lang}`);
    await page.evaluateOnNewDocument(record);
    await page.setViewport({ width: 1280, height: 900 });
    const downloads = fs.mkdtempSync(path.join(os.tmpdir(), `faceapp-kbd-${lang}-`));
    const cdp = await browser.target().createCDPSession();
    await cdp.send("Browser.setDownloadBehavior", {
      behavior: "allow",
      downloadPath: downloads,
      browserContextId: context.id,
      eventsEnabled: true,
    });
    await page.goto(`${origin}/`);
    await ready(page, "ul.books li.card");

    // The language, chosen in the header with the arrow keys (a select changes as it is moved through).
    if (lang !== "en") {
      await tabTo(page, "header select");
      await press(
        page,
        "ArrowDown",
        () => page.waitForFunction((l) => document.documentElement.lang === l, {}, lang),
        "language chosen",
      );
    }
    expect(await page.title()).toBe(`${t("catalog.title")} · ${t("app.name")}`);

    // Catalog → the book → sign in to personalise → sign up instead.
    await tabTo(page, "a.skip", { back: lang !== "en" });
    await press(page, "Enter", () => page.waitForFunction(() => document.activeElement?.id === "main"), "skipped");
    await tabTo(page, "ul.books a");
    await press(page, "Enter", () => ready(page, "article.book h1"), "the book's page");
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("main");
    await shot(page, `${lang}-book`);
    await tabTo(page, "article.book a.button");
    await press(page, "Enter", () => ready(page, "#auth-title"), "sign in");
    await tabTo(page, "main a[href^='/signup']");
    await press(page, "Enter", () => page.waitForFunction(() => location.pathname === "/signup"), "sign up");
    await tabTo(page, "#email");
    const email = `kbd-${lang}-${Date.now()}@example.com`;
    await page.keyboard.type(email);
    await tabTo(page, "#password");
    await page.keyboard.type("correct horse battery");
    await shot(page, `${lang}-signup`);
    await press(page, "Enter", () => ready(page, "#new-title"), "signed up, on the photo step");

    // The photo: the picker is reached and opened by keyboard; the test answers the file chooser.
    await tabTo(page, "input#photo");
    expect((await focusIndicator(page)).drawnBy).toMatch(/^label/); // the label shows the hidden input's focus
    await shot(page, `${lang}-photo-picker-focused`, { fullPage: false });
    // Space opens the chooser; the test fills it in. (Interception is switched on by the wait itself:
    // on a busy machine a press can beat it and the chooser is dismissed, so the key is pressed again.)
    let chooser: Awaited<ReturnType<Page["waitForFileChooser"]>> | undefined;
    for (let attempt = 0; !chooser && attempt < 3; attempt++) {
      const opened = page.waitForFileChooser({ timeout: 15_000 });
      await page.keyboard.press("Space");
      chooser = await opened.catch(() => undefined);
    }
    if (!chooser) throw new Error("Space on the focused photo input never opened the file chooser");
    await chooser.accept([ASTRONAUT]);
    await ready(page, ".photo-preview img");
    await tabTo(page, ".photo-picker button.primary");
    await press(page, "Enter", () => statusIs(page, "analyzed"), "the photo checked");
    const id = page.url().split("/p/")[1]!;
    expect(id).toMatch(/^[0-9a-f-]{36}$/);

    // The child's name (and gender, where asked: the arrow keys choose among the radios).
    await tabTo(page, "#childName");
    await page.keyboard.type(CHILD);
    await tabTo(page, "#childAge");
    await page.keyboard.type("5");
    await page.keyboard.press("Tab");
    await expectFocusShown(page, "after the age");
    if (await focusedIs(page, "input[type=radio]")) {
      await page.keyboard.press("Space");
      await expectFocusShown(page, "a gender chosen");
    }
    await tabTo(page, ".panel form button[type=submit]");
    await shot(page, `${lang}-child-form`);
    await press(page, "Enter", () => statusIn(page, ["preview_generating", "preview_ready"]), "the preview started");
    expect(await focusedIs(page, "[data-testid=status]")).toBe(true);
    await statusIs(page, "preview_ready");
    await page.waitForFunction(() => document.querySelectorAll("li.page-tile[data-state=done] img").length === 3, {
      timeout: LONG,
    });
    await expectFocusShown(page, "the preview ready");
    // A tile's picture is described by its words, never by its caption again.
    const tiles = await page.$$eval("li.page-tile", (lis) =>
      lis.map((li) => ({
        page: li.getAttribute("data-page"),
        caption: li.querySelector("figcaption")?.textContent?.trim() ?? "",
        alt: li.querySelector("img")?.getAttribute("alt") ?? null,
      })),
    );
    expect(tiles.map((x) => x.page)).toEqual(["cover_front", "page_1", "page_2"]);
    for (const tile of tiles) {
      expect(tile.alt, `${tile.page}'s alt`).not.toBeNull();
      expect(tile.alt, `${tile.page}'s alt repeats its caption`).not.toBe(tile.caption);
    }
    expect(tiles.find((x) => x.page === "page_1")?.alt).toBe(`${CHILD} and the moon`);
    await shot(page, `${lang}-preview-ready`);

    // The viewer: opened with Enter, pages turned with the arrows and its own buttons, zoomed, closed.
    await tabTo(page, ".actions button", { text: t("preview.open") });
    await press(page, "Enter", () => ready(page, "dialog.viewer[open] .spread[data-spread='0']"), "viewer open");
    expect(await focusedIs(page, "dialog.viewer")).toBe(true);
    await shot(page, `${lang}-viewer-open`, { fullPage: false });
    const position = (n: number) => t("viewer.position", { n, total: 13 });
    const positionIs = (n: number) =>
      page.waitForFunction(
        (want) => document.querySelector("[data-testid=viewer-position]")?.textContent === want,
        {},
        position(n),
      );
    await press(page, "ArrowRight", () => positionIs(2), "next spread by arrow");
    await press(page, "ArrowLeft", () => positionIs(1), "previous spread by arrow");
    await tabTo(page, "dialog.viewer button", { text: "+" });
    await press(
      page,
      "Enter",
      () =>
        page.waitForFunction(() => document.querySelector("dialog.viewer .stage")?.getAttribute("tabindex") === "0"),
      "zoomed in",
    );
    // Zoomed, the scrolling area is a stop of its own, named after the book.
    await tabTo(page, "dialog.viewer .stage");
    const stage = await page.$("dialog.viewer .stage");
    const node = await page.accessibility.snapshot({ root: stage!, interestingOnly: false });
    expect(node?.name).toBe("Test book moon");
    await shot(page, `${lang}-viewer-zoomed-stage-focused`, { fullPage: false });
    await tabTo(page, "dialog.viewer footer button", { text: t("viewer.next") });
    await press(page, "Enter", () => positionIs(2), "next spread by button");
    await press(page, "Enter", () => positionIs(3), "next spread by button again");
    await tabTo(page, "dialog.viewer footer button", { text: t("viewer.prev"), back: true });
    await press(page, "Enter", () => positionIs(2), "previous spread by button");
    await press(page, "Space", () => positionIs(1), "previous spread to the cover");
    await shot(page, `${lang}-viewer-back-at-cover`, { fullPage: false });
    await press(page, "Escape", () => page.waitForSelector("dialog.viewer", { hidden: true }), "viewer closed");
    expect(await focusedIs(page, ".actions button", t("preview.open"))).toBe(true);

    // The full book, then each file saved with Enter.
    await tabTo(page, ".actions button.primary", { text: t("preview.confirm") });
    await press(page, "Enter", () => statusIn(page, ["full_generating", "completed"]), "the full book started");
    expect(await focusedIs(page, "[data-testid=status]")).toBe(true);
    await statusIs(page, "completed");
    await ready(page, "ul.files a[data-file='pages.zip']");
    await expectFocusShown(page, "the book completed");
    await page.waitForFunction(
      () => [...document.querySelectorAll("ul.files .file-name")].every((e) => e.textContent?.includes("—")),
      { timeout: LONG },
    );
    await shot(page, `${lang}-completed`);
    for (const file of ["block.pdf", "cover.pdf", "pages.zip"]) {
      await tabTo(page, `ul.files a[data-file='${file}']`);
      const saveAs = await page.$eval(`ul.files a[data-file='${file}'] .file-name`, (e) => e.textContent ?? "");
      await page.keyboard.press("Enter");
      await waitForDownload(downloads, saveAs);
      await expectFocusShown(page, `${file} saved`);
    }
    expect(page.url()).toBe(`${origin}/p/${id}`);

    // Sign out and back in from the header, then the book in My books.
    await tabTo(page, "header button.link", { back: true });
    await press(page, "Enter", () => page.waitForFunction(() => location.pathname === "/"), "signed out");
    await tabTo(page, "header a[href='/signin']", { back: true });
    await press(page, "Enter", () => ready(page, "#auth-title"), "sign in");
    await tabTo(page, "#email");
    await page.keyboard.type(email);
    await tabTo(page, "#password");
    await page.keyboard.type("correct horse battery");
    await press(page, "Enter", () => ready(page, "header .who"), "signed in");
    await tabTo(page, "header a[href='/my-books']", { back: true });
    await press(page, "Enter", () => ready(page, `ul.my-books a[href='/p/${id}']`), "my books");
    await tabTo(page, `ul.my-books a[href='/p/${id}']`);
    await press(page, "Enter", () => statusIs(page, "completed"), "the book again");
    await shot(page, `${lang}-again`);

    // Never did focus fall to the body, between the keys either.
    const { heard, lost } = await page.evaluate(() => (window as unknown as { a11y: Recorded }).a11y);
    // For the record (and a reader of the test's output): all that was heard.
    console.info(
      `[keyboard ${lang}] heard:\n${heard.map((h) => `  ${h.visit} ${h.path} ${h.region}: ${h.text}`).join("\n")}`,
    );
    expect(lost).toEqual([]);
    expect(stops.length).toBeGreaterThan(30);

    // What a screen reader heard on the book's page while it was made: each stage once, in order,
    // and the count every five pages (and at the end), not one announcement per page.
    const here = heard.filter((h) => h.path === `/p/${id}`);
    const lifecycle = [
      "analyzing",
      "analyzed",
      "preview_generating",
      "preview_ready",
      "full_generating",
      "completed",
    ].map((s) => t(`status.${s}` as MessageKey));
    const visits = [...new Set(here.map((h) => h.visit))];
    expect(visits).toHaveLength(2);
    // The second visit (from My books) says where the book is, once: no replay of old stages.
    expect(here.filter((h) => h.visit === visits[1] && h.region === "status").map((h) => h.text)).toEqual([
      t("status.completed"),
    ]);
    const statuses = here.filter((h) => h.visit === visits[0] && h.region === "status").map((h) => h.text);
    expect(new Set(statuses).size, `a stage heard twice: ${statuses.join(" | ")}`).toBe(statuses.length);
    const ranks = statuses.map((s) => lifecycle.indexOf(s));
    expect(ranks.every((r) => r >= 0)).toBe(true);
    expect(ranks, `stages out of order: ${statuses.join(" | ")}`).toEqual([...ranks].sort((a, b) => a - b));
    expect(statuses.slice(-4)).toEqual(lifecycle.slice(-4));

    const counts = here.filter((h) => h.visit === visits[0] && h.region === "progress-announce").map((h) => h.text);
    // The preview's count at most once (its last page and "Preview ready" come together).
    const preview = counts.filter((c) => c === t("progress.preview", { done: 3, total: 3 }));
    expect(preview.length).toBeLessThanOrEqual(1);
    const full = counts.filter((c) => !preview.includes(c));
    const figures = full.map((c) => {
      const done = [5, 10, 15, 20, 25, 26].find((n) => c === t("progress.full", { done: n, total: 26 }));
      expect(done, `an announcement that is not a five-page summary: ${c}`).toBeDefined();
      return done!;
    });
    expect(figures, "summaries in order, each once").toEqual([...new Set(figures)].sort((a, b) => a - b));
    // 23 pages were made after the preview: far fewer announcements than page events.
    expect(figures.length).toBeGreaterThanOrEqual(3);
    expect(figures.length).toBeLessThanOrEqual(6);
    const upload = heard.filter((h) => h.region === "upload-announce").map((h) => h.text);
    expect(upload).toEqual(
      [t("photo.uploading"), t("photo.checking"), t("photo.uploaded")].filter((s) => upload.includes(s)),
    );
    expect(upload).toContain(t("photo.uploaded"));
  }

  it("the focus check fails where the ring is gone or blends in", async () => {
    const context = await browser.createBrowserContext();
    const page = await context.newPage();
    current = page;
    await page.goto(`${origin}/`);
    await ready(page, "ul.books li.card");
    await page.keyboard.press("Tab");
    await page.keyboard.press("Tab");
    const shown = await focusIndicator(page);
    expect(shown.focused).not.toBe("body");
    expect(shown.contrast).toBeGreaterThanOrEqual(3);
    // The ring painted in the colour beside it: measured at 1:1.
    const beside = await page.evaluate(() => {
      const el = document.activeElement as HTMLElement;
      const r = el.getBoundingClientRect();
      const under = document
        .elementsFromPoint(r.right + 8, r.top + r.height / 2)
        .find((e) => getComputedStyle(e).backgroundColor !== "rgba(0, 0, 0, 0)");
      const colour = getComputedStyle(under ?? document.body).backgroundColor;
      el.style.outlineColor = colour;
      return colour;
    });
    const blended = await focusIndicator(page);
    expect(blended.ring).toBe(beside);
    expect(blended.contrast).toBeLessThan(1.1);
    await expect(expectFocusShown(page, "control: blended ring")).rejects.toThrow(/greater than or equal to 3/);
    // No ring at all.
    await page.evaluate(() => {
      (document.activeElement as HTMLElement).style.outline = "none";
    });
    expect((await focusIndicator(page)).contrast).toBe(0);
    await expect(expectFocusShown(page, "control: no ring")).rejects.toThrow();
    // Focus on the body.
    await page.evaluate(() => (document.activeElement as HTMLElement).blur());
    expect((await focusIndicator(page)).focused).toBe("body");
    await expect(expectFocusShown(page, "control: body")).rejects.toThrow(/fell to the body/);
    await context.close();
  });

  it("in English: sign up, photo, name, preview, viewer, full book, downloads, sign in again", async () => {
    const context = await browser.createBrowserContext();
    await walk("en", context);
    await context.close();
  });

  it("in Ukrainian, the language chosen by keyboard", async () => {
    const context = await browser.createBrowserContext();
    await walk("uk", context);
    await context.close();
  });

  it("left no error in the browser console", () => {
    expect(problems).toEqual([]);
  });
});
