// End to end in a real headless Chromium: a parent whose book waits behind two others reads its place
// in the gpu queue, "2 books ahead of yours, about 3 minutes", in English and in Ukrainian, as text a
// screen reader reaches. No runner runs, so the three books wait and their places do not move.
import { body, createPersonalization, generate, readyPhoto, signUp, useApi } from "@faceapp/testkit/api";
import { skipAnalysis } from "@faceapp/testkit";
import type { Browser, Page } from "puppeteer-core";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  CHROMIUM,
  type ConsoleProblem,
  hasChromium,
  launchBrowser,
  type serveApi,
  serveFlow,
  shooter,
  watchConsole,
} from "./e2e.helpers.ts";

const LONG = 240_000;
/** What one face page costs a gpu runner, as the runners would have measured it. */
const PAGE_MS = 90_000;

if (!hasChromium) console.warn(`[web e2e queue] skipped: no Chromium at ${CHROMIUM} (set CHROMIUM_PATH)`);

describe.skipIf(!hasChromium)("the web app shows a waiting book's place in the queue", { timeout: LONG }, () => {
  const api = useApi({ env: { SSE_HEARTBEAT_SECONDS: "1", QUEUE_POSITION_INTERVAL_MS: "500" } });
  let server: Awaited<ReturnType<typeof serveApi>>;
  let origin: string;
  let browser: Browser;
  let page: Page;
  const shot = shooter("queue");
  const problems: ConsoleProblem[] = [];
  let step = "";
  let mine = { id: "", token: "", cookie: "" };

  /** A signed-up parent's book, analysis skipped (no gpu runner), its preview started: its face page waits. */
  async function waitingBook() {
    const user = await signUp(api.app, "queue");
    const photo = await readyPhoto(api.app, user.token);
    const created = await createPersonalization(api.app, user.token, "moon", photo);
    expect(created.status).toBe(202);
    const { id } = await body(created);
    await skipAnalysis(api.pg, id);
    await generate(api, { id, token: user.token });
    return { id: id as string, token: user.token, cookie: user.cookie };
  }

  beforeAll(async () => {
    ({ server, origin } = await serveFlow(api));
    // The ETA needs a measured page time; no runner runs here, so it is the figure they would have stored.
    await api.pg.sql`
      insert into app.engine_page_times (engine, mean_ms, samples) values ('composite', ${PAGE_MS}, 20)
      on conflict (engine) do update set mean_ms = excluded.mean_ms, samples = excluded.samples`;
    // Two books started first (one face page each), then the parent's: two ahead, 2 × 90 s = 3 minutes.
    await waitingBook();
    await waitingBook();
    mine = await waitingBook();
    browser = await launchBrowser();
    page = await browser.newPage();
    page.setDefaultTimeout(LONG);
    await page.setViewport({ width: 1280, height: 900 });
    watchConsole(page, problems, () => step);
    await page.evaluateOnNewDocument(() => {
      Object.defineProperty(navigator, "languages", { get: () => ["en-GB", "en"] });
    });
    const [name, value] = mine.cookie.split("=") as [string, string];
    await page.setCookie({ name, value, url: origin, httpOnly: true });
  }, LONG);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  beforeEach((ctx) => {
    step = ctx.task.name;
  });

  afterEach(async (ctx) => {
    if (ctx.task.result?.state === "fail" && page)
      await shot(page, `FAILED-${ctx.task.name.slice(0, 30).replace(/\W+/g, "-")}`);
  });

  /** The queue line's text once it reads `text` (it appears when the stream or the view tells the place). */
  const queueLine = async (text: string) => {
    await page.waitForFunction(
      (want) => document.querySelector("[data-testid=queue]")?.textContent === want,
      { timeout: LONG, polling: 250 },
      text,
    );
    return page.$eval("[data-testid=queue]", (e) => e.textContent);
  };

  /** Whether a screen reader reaches the line: in the accessibility tree, with its text. */
  const readable = async (text: string) => {
    const handle = await page.$("[data-testid=queue]");
    const tree = await page.accessibility.snapshot({ root: handle!, interestingOnly: false });
    return JSON.stringify(tree).includes(text);
  };

  it("the REST view places the book third, two face pages ahead, about 3 minutes", async () => {
    const view = await body(
      await api.app.request(`/v1/personalizations/${mine.id}`, { headers: { authorization: `Bearer ${mine.token}` } }),
    );
    expect(view.status).toBe("preview_generating");
    expect(view.queue).toEqual({ position: 3, pagesAhead: 2, etaSeconds: 180 });
  });

  it("says it in English", async () => {
    await page.goto(`${origin}/p/${mine.id}`);
    await page.waitForSelector('section.personalization[data-status="preview_generating"]', { timeout: LONG });
    expect(await queueLine("2 books ahead of yours, about 3 minutes")).toBe("2 books ahead of yours, about 3 minutes");
    expect(await readable("2 books ahead of yours, about 3 minutes")).toBe(true);
    await shot(page, "waiting-en");
  });

  it("and in Ukrainian", async () => {
    await page.select("header select", "uk");
    await page.waitForFunction(() => document.documentElement.lang === "uk");
    expect(await queueLine("2 книжки перед вашою, приблизно 3 хвилини")).toBe(
      "2 книжки перед вашою, приблизно 3 хвилини",
    );
    expect(await readable("2 книжки перед вашою, приблизно 3 хвилини")).toBe(true);
    await shot(page, "waiting-uk");
    await page.select("header select", "en");
  });

  it("logged no console errors", () => {
    expect(problems).toEqual([]);
  });
});
