// The built web app under the api's Content-Security-Policy, in real Chromium: no inline script in the
// build, and the catalog (cover images from the store), a book, sign-up and a photo posted straight to
// the store (its preview a blob: image) with not one violation of the policy.
import fs from "node:fs";
import path from "node:path";
import { fixturePath, seedBook, record } from "@faceapp/testkit";
import type { Browser, Page } from "puppeteer-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useApi } from "@faceapp/testkit/api";
import { allowBrowserUploads, buildWeb, hasChromium, launchBrowser, serveApi } from "./e2e.helpers.ts";

const LONG = 180_000;

describe.skipIf(!hasChromium)("the built app under its Content-Security-Policy", { timeout: LONG }, () => {
  const api = useApi();
  let webDist: string;
  let server: Awaited<ReturnType<typeof serveApi>>;
  let browser: Browser;
  let page: Page;
  const reported: string[] = [];

  beforeAll(async () => {
    webDist = buildWeb();
    await allowBrowserUploads(api.s3Config);
    await seedBook(api.pg, api.s3Config, { slug: "csp", facePages: [1], previewPages: [1, 2] });
    server = await serveApi(api, webDist);
    browser = await launchBrowser();
    page = await browser.newPage();
    // Every violation the page sees (injected by DevTools, which the policy does not govern), and
    // every console line Chromium writes about the policy.
    await page.evaluateOnNewDocument(() => {
      const seen: string[] = [];
      (window as unknown as { violations: string[] }).violations = seen;
      document.addEventListener("securitypolicyviolation", (e) =>
        seen.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`),
      );
    });
    page.on("console", (m) => {
      if (/Content Security Policy/i.test(m.text())) reported.push(m.text());
    });
  }, LONG);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (webDist) fs.rmSync(webDist, { recursive: true, force: true });
  });

  const violations = async () => [
    ...(await page.evaluate(() => (window as unknown as { violations: string[] }).violations)),
    ...reported,
  ];

  it("is built with no inline script, handler or style attribute", () => {
    const html = fs.readFileSync(path.join(webDist, "index.html"), "utf8");
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)];
    expect(scripts.length).toBeGreaterThan(0);
    for (const [, attributes, content] of scripts) {
      expect(attributes).toMatch(/\bsrc="\/assets\/[^"]+\.js"/);
      expect(content!.trim()).toBe("");
    }
    expect(html).not.toMatch(/\son[a-z]+\s*=|javascript:/i);
    // Solid puts static markup in templates parsed as HTML: a style attribute there is an inline style
    // the policy refuses (the viewer's transform-origin was one); styles belong in the stylesheet.
    const assets = fs.readdirSync(path.join(webDist, "assets")).filter((f) => f.endsWith(".js"));
    expect(assets.length).toBeGreaterThan(0);
    for (const file of assets) {
      const js = fs.readFileSync(path.join(webDist, "assets", file), "utf8");
      expect(js.match(/<[a-z][^<>]*\sstyle=[^>]*>/i)?.[0] ?? null, file).toBeNull();
    }
  });

  it("loads the catalog and a book with no violation, under the api's policy", async () => {
    const res = await page.goto(`${server.origin}/`);
    const csp = res!.headers()["content-security-policy"];
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain("unsafe");
    await page.waitForSelector("ul.books li.card img");
    // The cover image came from the store, a different origin, and was allowed.
    await page.waitForFunction(() => {
      const img = document.querySelector<HTMLImageElement>("ul.books img");
      return img?.complete && img.naturalWidth > 0;
    });
    await page.goto(`${server.origin}/books/csp`);
    await page.waitForSelector("article.book h1");
    expect(await violations()).toEqual([]);
  });

  it("signs up and posts a photo straight to the store with no violation", async () => {
    await page.goto(`${server.origin}/signup`);
    await page.waitForSelector("form input#email");
    await page.type("#email", `csp-${Date.now()}@example.com`);
    await page.type("#password", "correct horse battery");
    await page.click("button[type=submit]");
    await page.waitForFunction(() => !location.pathname.startsWith("/signup"));
    await page.goto(`${server.origin}/books/csp/personalise`);
    const input = await page.waitForSelector("input[type=file]");
    await input!.uploadFile(fixturePath("face-astronaut.png"));
    await page.waitForSelector(".photo-preview img");
    await page.click(".photo-picker button.primary");
    // The POST to the store went through: the app moved on to the personalisation.
    await page.waitForSelector("section.personalization", { timeout: LONG });
    expect(await violations()).toEqual([]);
    record("built app under its CSP in Chromium", { pageLoads: 4, storeUploads: 1, violations: 0 }, "Defences");
  });
});
