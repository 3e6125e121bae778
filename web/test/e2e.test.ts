// End to end in a real headless Chromium: the built app served by the real api, real runner
// processes, Postgres, s3rver and Redis. Screenshots of each step land in web/test-results/e2e/.
import { fixturePath, redisUrl, seedBook, serviceEnv, type Spawned, spawnRunner } from "@faceapp/testkit";
import type { Browser, Page } from "puppeteer-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { useApi } from "../../api/test/helpers.ts";
import { createApiClient } from "../src/api/client.ts";
import {
  allowBrowserUploads,
  buildWeb,
  CHROMIUM,
  hasChromium,
  launchBrowser,
  pdfPageCount,
  serveApi,
  shooter,
} from "./e2e.helpers.ts";

const ASTRONAUT = fixturePath("face-astronaut.png");
const COFFEE = fixturePath("noface-coffee.png");
const LONG = 240_000;

if (!hasChromium) console.warn(`[web e2e] skipped: no Chromium at ${CHROMIUM} (set CHROMIUM_PATH)`);

describe.skipIf(!hasChromium)("the web app in Chromium", { timeout: LONG }, () => {
  const api = useApi({ env: { SSE_HEARTBEAT_SECONDS: "1" } });
  const runners: Spawned[] = [];
  let env: Record<string, string>;
  let server: Awaited<ReturnType<typeof serveApi>>;
  let origin: string;
  let browser: Browser;
  let page: Page;
  const shot = shooter("flow");

  beforeAll(async () => {
    const webDist = buildWeb();
    await allowBrowserUploads(api.s3Config);
    await seedBook(api.db, api.s3Config, { slug: "moon", facePages: [1], previewPages: [1, 2] });
    server = await serveApi(api, webDist);
    origin = server.origin;
    env = serviceEnv(api.db.url, api.s3Config, redisUrl);
    // The render runner starts later, so a reload can be made while the preview is surely unfinished.
    runners.push(await spawnRunner("gpu", env));
    browser = await launchBrowser();
    page = await browser.newPage();
    await page.setViewport({ width: 1280, height: 900 });
    page.on("pageerror", (err) => console.error("[browser error]", err));
    page.on("console", (m) => {
      if (m.type() === "error" || m.type() === "warn") console.error(`[browser ${m.type()}]`, m.text());
    });
    await page.evaluateOnNewDocument(() => {
      Object.defineProperty(navigator, "languages", { get: () => ["en-GB", "en"] });
    });
  }, LONG);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await Promise.all(runners.map((r) => r.stop()));
  });

  afterEach(async (ctx) => {
    if (ctx.task.result?.state === "fail" && page)
      await shot(page, `FAILED-${ctx.task.name.slice(0, 30).replace(/\W+/g, "-")}`);
  });

  const status = (s: string) => page.waitForSelector(`section.personalization[data-status="${s}"]`, { timeout: LONG });
  let personalizationId = "";
  let cookie = "";
  const email = `e2e-${Date.now()}@example.com`;

  it("shows the catalog and a book", async () => {
    await page.goto(`${origin}/`);
    await page.waitForSelector("ul.books li.card");
    expect(await page.$eval("ul.books h2", (h) => h.textContent)).toBe("Test book moon");
    expect(await page.$eval("ul.books img", (img) => img.getAttribute("alt"))).toContain("Test book moon");
    await shot(page, "catalog");
    // Filters: a 12-year-old's books exclude this one (ages 2–7); its category and a 5-year-old include it.
    await page.select("#age", "12");
    await page.waitForFunction(() => !document.querySelector("ul.books") && document.querySelector("main p"));
    await shot(page, "catalog-filtered-out");
    await page.select("#age", "5");
    await page.select("#category", "adventure");
    await page.waitForSelector("ul.books li.card");
    await page.type("#q", "moon");
    await page.click(".search button[type=submit]");
    // The list re-renders when the search's answer arrives, which can detach a link found before it:
    // click whichever link is in the document until the book page opens.
    await page.waitForFunction(
      () => {
        document.querySelector<HTMLAnchorElement>("ul.books a")?.click();
        return location.pathname === "/books/moon";
      },
      { polling: 250 },
    );
    await page.waitForSelector("article.book h1");
    expect(page.url()).toBe(`${origin}/books/moon`);
    await shot(page, "book");
    // The api serves the app beside itself: page paths get index.html, its own paths stay JSON.
    const deep = await fetch(`${origin}/books/moon`);
    expect(deep.headers.get("content-type")).toContain("text/html");
    const missing = await fetch(`${origin}/v1/nothing-here`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe("not_found");
    expect((await fetch(`${origin}/healthz`)).status).toBe(200);
  });

  it("speaks Ukrainian to a browser that prefers it", async () => {
    const context = await browser.createBrowserContext();
    const uk = await context.newPage();
    await uk.evaluateOnNewDocument(() => {
      Object.defineProperty(navigator, "languages", { get: () => ["uk-UA", "uk", "en"] });
    });
    await uk.goto(`${origin}/`);
    await uk.waitForSelector("ul.books li.card");
    expect(await uk.$eval("h1", (h) => h.textContent)).toBe("Оберіть книжку");
    expect(await uk.evaluate(() => document.documentElement.lang)).toBe("uk");
    await shot(uk, "catalog-uk");
    await context.close();
  });

  it("signs up, and the cookie session survives a reload", async () => {
    await page.click("article.book a.button");
    await page.waitForSelector("#auth-title");
    await page.click("main a[href^='/signup']");
    await page.waitForSelector("form input#email");
    await page.type("#email", email);
    await page.type("#password", "correct horse battery");
    await shot(page, "signup");
    await page.click("button[type=submit]");
    await page.waitForSelector("#new-title");
    expect(page.url()).toBe(`${origin}/books/moon/personalise`);
    await page.reload();
    await page.waitForSelector("#new-title");
    expect(await page.$eval(".who", (e) => e.textContent)).toMatch(/^e2e-/);
    const session = (await browser.cookies()).find((c) => c.name === "faceapp_session");
    expect(session?.httpOnly).toBe(true);
    cookie = `faceapp_session=${session?.value}`;
    // The same typed client, from Node, with the browser's session.
    const client = createApiClient({ baseUrl: origin, headers: () => ({ cookie }) });
    expect((await client.call("GET /v1/me")).user.email).toMatch(/^e2e-/);
  });

  it("uploads the photo straight to the bucket with progress, then shows the analysis", async () => {
    const input = await page.waitForSelector("input[type=file]");
    await input!.uploadFile(ASTRONAUT);
    await page.waitForSelector(".photo-preview img");
    await shot(page, "photo-chosen");
    // Record every value the progress bar shows.
    await page.evaluate(() => {
      const seen: number[] = [];
      (window as unknown as { seen: number[] }).seen = seen;
      const timer = setInterval(() => {
        const bar = document.querySelector<HTMLProgressElement>("#upload-progress");
        if (bar && seen.at(-1) !== bar.value) seen.push(bar.value);
        if (location.pathname.startsWith("/p/")) clearInterval(timer);
      }, 5);
    });
    await page.click(".photo-picker button.primary");
    await page.waitForSelector("section.personalization", { timeout: LONG });
    personalizationId = page.url().split("/p/")[1]!;
    expect(personalizationId).toMatch(/^[0-9a-f-]{36}$/);
    const seen = await page.evaluate(() => (window as unknown as { seen: number[] }).seen);
    expect(seen.at(-1)).toBe(100);
    await page.waitForSelector("[data-testid=analysis-ok]", { timeout: LONG });
    await status("analyzed");
    await shot(page, "analysis");
  });

  it("names the child; a reload mid-generation resumes the live view; pages arrive one by one", async () => {
    await page.type("#childName", "Ada");
    await page.type("#childAge", "5");
    const gender = await page.$("input[name=childGender][value=girl]");
    if (gender) await gender.click();
    await shot(page, "child-form");
    await page.click(".panel form button[type=submit]");
    await status("preview_generating");
    await page.waitForSelector("[data-testid=preview-pages] li.page-tile");
    await shot(page, "generating");

    // No render runner yet: the preview cannot finish before this reload.
    await page.reload();
    await status("preview_generating");
    const pending = await page.$$eval("[data-testid=preview-pages] li.page-tile", (tiles) =>
      tiles.map((t) => t.getAttribute("data-state")),
    );
    expect(pending).toHaveLength(3);
    expect(pending).not.toContain("done");
    await shot(page, "reloaded-mid-generation");

    // Record the order in which tiles turn done, as the stream delivers them.
    await page.evaluate(() => {
      const order: string[] = [];
      (window as unknown as { order: string[] }).order = order;
      new MutationObserver(() => {
        for (const tile of document.querySelectorAll("li.page-tile[data-state=done]")) {
          const id = tile.getAttribute("data-page")!;
          if (!order.includes(id)) order.push(id);
        }
      }).observe(document.body, { subtree: true, attributes: true, childList: true });
    });
    runners.push(await spawnRunner("render", env));
    await status("preview_ready");
    await page.waitForFunction(
      () =>
        [...document.querySelectorAll<HTMLImageElement>("li.page-tile img")].filter(
          (i) => i.complete && i.naturalWidth > 0,
        ).length === 3,
      { timeout: LONG },
    );
    const order = await page.evaluate(() => (window as unknown as { order: string[] }).order);
    expect([...order].sort()).toEqual(["cover_front", "page_1", "page_2"]);
    expect(await page.$eval("[data-testid=status]", (e) => e.textContent)).toContain("Preview ready");
    expect(await page.$eval(".actions", (e) => e.textContent)).toContain("Draw it again (3 left)");
    await shot(page, "preview-ready");
  });

  it("draws the preview again, counting the redraws down", async () => {
    const redraw = await page.waitForSelector("xpath///button[contains(., 'Draw it again (3 left)')]");
    await redraw!.click();
    await page.waitForFunction(
      () =>
        document.querySelector("section.personalization")?.getAttribute("data-status") === "preview_ready" &&
        document.querySelector(".actions")?.textContent?.includes("Draw it again (2 left)"),
      { timeout: LONG },
    );
    await page.waitForFunction(() => document.querySelectorAll("li.page-tile[data-state=done] img").length === 3, {
      timeout: LONG,
    });
    await shot(page, "redrawn");
  });

  it("opens the viewer: spreads, keyboard, zoom", async () => {
    const open = await page.waitForSelector("xpath///button[contains(., 'Open the book')]");
    await open!.click();
    await page.waitForSelector("dialog.viewer[open] .spread[data-spread='0'] img.page");
    expect(await page.$$eval("dialog.viewer .spread > *", (els) => els.length)).toBe(1);
    await shot(page, "viewer-cover");
    await page.keyboard.press("ArrowRight");
    await page.waitForSelector("dialog.viewer .spread[data-spread='1']");
    const pair = await page.$$eval("dialog.viewer .spread img.page", (imgs) => imgs.map((i) => i.getAttribute("alt")));
    expect(pair).toEqual(["Page 1", "Page 2"]);
    await shot(page, "viewer-spread-1-2");
    await page.click("dialog.viewer button[aria-label='Zoom in']");
    expect(await page.$eval("dialog.viewer .spread", (e) => (e as HTMLElement).style.transform)).toBe("scale(1.5)");
    await shot(page, "viewer-zoomed");
    await page.keyboard.press("End");
    await page.waitForSelector("dialog.viewer .spread[data-spread='12']");
    expect(await page.$eval("dialog.viewer h2", (e) => e.textContent)).toContain("13 of 13");
    await shot(page, "viewer-back-cover");
    // A swipe to the right turns back one spread.
    const stage = await page.$eval("dialog.viewer .stage", (e) => {
      const r = e.getBoundingClientRect();
      return { x: r.x + r.width / 2, y: r.y + r.height / 2 };
    });
    await page.mouse.move(stage.x - 150, stage.y);
    await page.mouse.down();
    await page.mouse.move(stage.x + 150, stage.y, { steps: 5 });
    await page.mouse.up();
    await page.waitForSelector("dialog.viewer .spread[data-spread='11']");
    await page.keyboard.press("Escape");
    await page.waitForSelector("dialog.viewer", { hidden: true });
  });

  it("confirms, waits for the print files, and downloads a 24-page block.pdf", async () => {
    const confirm = await page.waitForSelector("xpath///button[contains(., 'Make the full book')]");
    await confirm!.click();
    await status("full_generating");
    await shot(page, "full-generating");
    await status("completed");
    const link = await page.waitForSelector("a[data-file='block.pdf']", { timeout: LONG });
    await shot(page, "completed-files");
    const href = await link!.evaluate((a) => (a as HTMLAnchorElement).href);
    const client = createApiClient({ baseUrl: origin });
    expect(href).toBe(
      client.url("GET /v1/personalizations/{id}/files/{name}", { id: personalizationId, name: "block.pdf" }),
    );
    // What the browser's download does: the api answers 302 to the store, with the session cookie.
    const res = await fetch(href, { headers: { cookie } });
    expect(res.status).toBe(200);
    const pdf = Buffer.from(await res.arrayBuffer());
    expect(pdf.subarray(0, 5).toString("latin1")).toBe("%PDF-");
    expect(pdfPageCount(pdf)).toBe(24);
    expect(await page.$$eval("ul.files a", (as) => as.map((a) => a.getAttribute("data-file")))).toEqual([
      "block.pdf",
      "cover.pdf",
      "pages.zip",
    ]);
  });

  it("lists it in My books, and speaks Ukrainian", async () => {
    await page.click("a[href='/my-books']");
    await page.waitForSelector(`ul.my-books li.card a[href='/p/${personalizationId}']`);
    await shot(page, "my-books");
    await page.select("header select", "uk");
    await page.waitForFunction(() => document.documentElement.lang === "uk");
    expect(await page.$eval("#my-title", (e) => e.textContent)).toBe("Мої книжки");
    await shot(page, "my-books-uk");
    await page.select("header select", "en");
    // The same book on a phone.
    await page.setViewport({ width: 390, height: 844, isMobile: true, hasTouch: true });
    await page.goto(`${origin}/p/${personalizationId}`);
    await status("completed");
    await page.waitForSelector("a[data-file='block.pdf']");
    await shot(page, "phone-completed");
    await page.setViewport({ width: 1280, height: 900 });
  });

  it("refuses a photo without a face, saying what to do, and offers another photo", async () => {
    await page.goto(`${origin}/books/moon/personalise`);
    const input = await page.waitForSelector("input[type=file]");
    await input!.uploadFile(COFFEE);
    await page.click(".photo-picker button.primary");
    await status("analysis_failed");
    await page.waitForSelector("[data-testid=refused]");
    const text = await page.$eval("[data-testid=refused]", (e) => e.textContent ?? "");
    expect(text).toContain("We could not use this photo.");
    expect(text).toContain("Please choose another photo");
    expect(await page.$("#replace-title")).not.toBeNull();
    await shot(page, "refused");

    // Another photo on the same personalisation: analysed again, accepted.
    const again = await page.waitForSelector("input[type=file]");
    await again!.uploadFile(ASTRONAUT);
    await page.click(".photo-picker button.primary");
    await page.waitForSelector("[data-testid=analysis-ok]", { timeout: LONG });
    await status("analyzed");
    await shot(page, "replaced-photo");
  });

  it("cancels a personalisation after asking", async () => {
    page.once("dialog", (dialog) => void dialog.accept());
    const cancel = await page.waitForSelector("xpath///button[contains(., 'Cancel this book')]");
    await cancel!.click();
    await status("canceled");
    expect(await page.$eval("[data-testid=status]", (e) => e.textContent)).toContain("Canceled");
    await shot(page, "canceled");
  });

  it("signs out, and says so plainly when a password is wrong or an email is taken", async () => {
    const signOut = await page.waitForSelector("xpath///header//button[contains(., 'Sign out')]");
    await signOut!.click();
    await page.waitForSelector("header a[href='/signin']");
    await page.click("header a[href='/signin']");
    await page.waitForSelector("#email");
    await page.type("#email", email);
    await page.type("#password", "not the password");
    await page.click("button[type=submit]");
    await page.waitForFunction(() => document.querySelector("#auth-error")?.textContent?.includes("wrong"));
    expect(await page.$eval("#auth-error", (e) => e.textContent)).toBe("The email or password is wrong.");
    await shot(page, "wrong-password");
    await page.click("main a[href^='/signup']");
    await page.waitForSelector("#auth-title");
    await page.type("#email", email);
    await page.type("#password", "correct horse battery");
    await page.click("button[type=submit]");
    await page.waitForFunction(() => document.querySelector("#auth-error")?.textContent?.includes("exists"));
    await shot(page, "email-taken");
    await page.click("main a[href^='/signin']");
    await page.waitForSelector("#auth-title");
    await page.type("#email", email);
    await page.type("#password", "correct horse battery");
    await page.click("button[type=submit]");
    await page.waitForSelector(".who");
  });
});
