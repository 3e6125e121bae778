// The e2e rig: the web app built for same-origin use, served by a real api (with its own database,
// bucket and Redis), runner processes, and Debian's headless Chromium driven by puppeteer-core.
import { execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import fs from "node:fs";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { PutBucketCorsCommand } from "@aws-sdk/client-s3";
import { createS3Client, type S3Config } from "@faceapp/core";
import { serve } from "@hono/node-server";
import puppeteer, { type Browser, type Page } from "puppeteer-core";
import { createApp } from "../../api/src/app.ts";
import type { TestApi } from "@faceapp/testkit/api";

export const webRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
export const hasChromium = fs.existsSync(CHROMIUM);
/** Screenshots of every step (git-ignored). */
export const shotsDir = path.join(webRoot, "test-results", "e2e");

/** Builds the app with VITE_API_BASE_URL="" (the api serves it from its own origin) into a temp folder. */
export function buildWeb(): string {
  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), "faceapp-web-"));
  const vite = path.join(webRoot, "../node_modules/vite/bin/vite.js");
  execFileSync(process.execPath, [vite, "build", "--outDir", outDir, "--emptyOutDir", "--logLevel", "warn"], {
    cwd: webRoot,
    env: { ...process.env, VITE_API_BASE_URL: "" },
    stdio: "pipe",
  });
  return outDir;
}

/** Browsers post photos straight to the bucket: it needs CORS, as the real store has. */
export async function allowBrowserUploads(s3Config: S3Config): Promise<void> {
  await createS3Client(s3Config).send(
    new PutBucketCorsCommand({
      Bucket: s3Config.bucket,
      CORSConfiguration: {
        CORSRules: [
          {
            AllowedOrigins: ["*"],
            AllowedMethods: ["GET", "HEAD", "POST", "PUT"],
            AllowedHeaders: ["*"],
            ExposeHeaders: ["ETag"],
          },
        ],
      },
    }),
  );
}

/** The api (serving the built app) on a free port. */
export async function serveApi(api: TestApi, webDist: string): Promise<{ origin: string; close(): Promise<void> }> {
  const app = createApp({ ...api.deps, webDist });
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        (server as import("node:http").Server).closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

export async function launchBrowser(): Promise<Browser> {
  return puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    protocolTimeout: 600_000,
    userDataDir: fs.mkdtempSync(path.join(os.tmpdir(), "faceapp-chromium-")),
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
      "--disable-dev-shm-usage",
      "--hide-scrollbars",
      "--font-render-hinting=none",
    ],
  });
}

/** A screenshot of the whole page (or only the viewport: a modal viewer), numbered in the order taken. */
export function shooter(prefix: string) {
  fs.mkdirSync(shotsDir, { recursive: true });
  for (const old of fs.readdirSync(shotsDir)) if (old.startsWith(`${prefix}-`)) fs.rmSync(path.join(shotsDir, old));
  let n = 0;
  return async (page: Page, name: string, options: { fullPage?: boolean } = {}) => {
    n += 1;
    await page.screenshot({
      path: path.join(shotsDir, `${prefix}-${String(n).padStart(2, "0")}-${name}.png`),
      fullPage: options.fullPage ?? true,
    });
  };
}

export interface ConsoleProblem {
  /** The test that was running. */
  step: string;
  type: string;
  text: string;
  url: string | undefined;
}

/** Records every console error and uncaught exception of a tab (and prints it as it happens). */
export function watchConsole(page: Page, into: ConsoleProblem[], step: () => string): void {
  page.on("pageerror", (err) => {
    const problem = { step: step(), type: "pageerror", text: String(err), url: page.url() };
    console.error("[browser pageerror]", problem);
    into.push(problem);
  });
  page.on("console", (m) => {
    if (m.type() !== "error") return;
    const problem = { step: step(), type: m.type(), text: m.text(), url: m.location().url };
    console.error("[browser console error]", problem);
    into.push(problem);
  });
}

/** Waits until Chromium has finished saving `name` into `dir` (its partial file is gone). */
export async function waitForDownload(dir: string, name: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const files = fs.readdirSync(dir);
    if (files.includes(name) && !files.some((f) => f.endsWith(".crdownload"))) return;
    if (Date.now() > deadline)
      throw new Error(`no download named ${JSON.stringify(name)} in ${dir}: ${files.join(", ")}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** An HTML page listing the files in a downloads folder (for a screenshot of what was saved). */
export function downloadsReport(dir: string, details: Record<string, string[]> = {}): string {
  const esc = (t: string) => t.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
  const rows = fs
    .readdirSync(dir)
    .sort()
    .map((name) => {
      const more = details[name] ? `<br><small>${details[name].map(esc).join(" · ")}</small>` : "";
      return `<li><b>${esc(name)}</b> — ${fs.statSync(path.join(dir, name)).size} bytes${more}</li>`;
    });
  return `<!doctype html><meta charset="utf-8"><title>Downloads</title><body style="font:15px system-ui,sans-serif">
<h1>Saved by Chromium into ${esc(dir)}</h1><ul>${rows.join("")}</ul></body>`;
}

const AXE = createRequire(import.meta.url).resolve("axe-core/axe.min.js");
/** WCAG 2.2 A and AA, and axe's best practices. */
const AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"];

/** axe-core's violations on the page as it is now, one line each (rule, help, the elements). */
export async function axeViolations(page: Page): Promise<string[]> {
  // Evaluated through DevTools, not added as a <script>: the app's Content-Security-Policy refuses
  // scripts that are not its own, as it should.
  if (!(await page.evaluate(() => "axe" in window))) await page.evaluate(fs.readFileSync(AXE, "utf8"));
  return page.evaluate(async (tags) => {
    type Axe = {
      run(
        context: Document,
        options: unknown,
      ): Promise<{ violations: { id: string; help: string; nodes: { target: string[] }[] }[] }>;
    };
    const axe = (window as unknown as { axe: Axe }).axe;
    const { violations } = await axe.run(document, { runOnly: { type: "tag", values: tags } });
    return violations.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).join(", ")})`);
  }, AXE_TAGS);
}

/**
 * The contrast between the focused element's outline and the page background behind it (WCAG's
 * relative luminance), for the 3:1 a focus indicator needs.
 */
export async function focusRingContrast(page: Page): Promise<number> {
  return page.evaluate(() => {
    const el = document.activeElement as HTMLElement;
    const style = getComputedStyle(el);
    if (style.outlineStyle === "none" || Number.parseFloat(style.outlineWidth) < 2) return 0;
    const rgb = (c: string) => (c.match(/\d+(\.\d+)?/g) ?? []).slice(0, 3).map(Number);
    // The first ancestor with an opaque background is what the ring is seen against.
    let behind = el.parentElement;
    while (
      behind &&
      getComputedStyle(behind)
        .backgroundColor.replace(/\s/g, "")
        .match(/rgba\(.*,0\)|transparent/)
    )
      behind = behind.parentElement;
    const luminance = (c: number[]) => {
      const [r, g, b] = c.map((v) => {
        const s = v / 255;
        return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
      });
      return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
    };
    const a = luminance(rgb(style.outlineColor));
    const b = luminance(rgb(getComputedStyle(behind ?? document.body).backgroundColor));
    return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
  });
}

/** Counts the pages of a PDF (its /Type /Page objects, not the /Pages tree). */
export function pdfPageCount(bytes: Buffer): number {
  return (bytes.toString("latin1").match(/\/Type\s*\/Page(?![s\w])/g) ?? []).length;
}
