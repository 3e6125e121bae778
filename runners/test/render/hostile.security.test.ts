// Hostile text: nothing a name or a template says can make Chromium reach the network or the disk.

import { once } from "node:events";
import { writeFile } from "node:fs/promises";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import type { PageId } from "@faceapp/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { escapeHtml, pageArt, pageDocument, renderPage, safeRect, Typesetter } from "./imports.ts";
import { background, layer, readBookFile, testManifest, withChromiumPage } from "./fixtures.ts";

let connections = 0;
let port = 0;
const listener = net.createServer((socket) => {
  connections++;
  socket.once("data", (d) => {
    if (process.env.DEBUG_HOSTILE) console.log(String(d).split("\n")[0]);
    socket.destroy();
  });
});
const typesetter = new Typesetter({ timeoutMs: 20_000 });

beforeAll(async () => {
  listener.listen(0, "127.0.0.1");
  await once(listener, "listening");
  port = (listener.address() as net.AddressInfo).port;
});
afterAll(async () => {
  await typesetter.close();
  listener.close();
});

/** What a hostile parent or book author might type, each aimed at the loopback listener or the disk. */
const corpus = (): string[] => {
  const u = `http://127.0.0.1:${port}`;
  return [
    `<img src="${u}/img" onerror="fetch('${u}/js')">`,
    `</style><link rel="stylesheet" href="${u}/css">`,
    `</div><style>@import url(${u}/import.css);</style>`,
    `<div style="background:url(${u}/bg.png)">x</div>`,
    `<meta http-equiv="refresh" content="0;url=${u}/refresh">`,
    `<svg xmlns="http://www.w3.org/2000/svg"><image href="${u}/svg.png"/></svg>`,
    `<iframe src="file:///etc/passwd"></iframe>`,
    `<object data="file:///etc/hostname"></object>`,
    `<script src="${u}/script.js"></script><script>location='${u}/loc'</script>`,
    `<base href="${u}/"><img src="relative.png">`,
    `<link rel="prefetch" href="${u}/prefetch"><link rel="dns-prefetch" href="//127.0.0.1:${port}">`,
    `<video poster="${u}/poster.png"></video><audio src="${u}/a.mp3" autoplay></audio>`,
    `<form action="${u}/form"><input type=image src="${u}/input.png"></form>`,
    `{child_age}\u0000\u0007 & &amp; &lt;b&gt; "quotes" 'single' \\ \` \${x}`,
    `Ім'я <b>жирне</b> 🦄 ${"ю".repeat(20)}`,
  ];
};

describe("hostile text", () => {
  it("is escaped into text: Chromium parses exactly the characters, and no element besides the layers", async () => {
    const manifest = testManifest({ page_1: [layer({ template: "Hello, {child_name}!" })] });
    const art = pageArt(manifest, "page_1");
    await withChromiumPage(async (page) => {
      await page.setRequestInterception(true);
      page.on("request", (r) => void (r.url().startsWith("data:") ? r.continue() : r.abort()));
      for (const name of corpus()) {
        const doc = pageDocument(manifest, "page_1", art, { child_name: name }, "");
        const body = doc.html.slice(doc.html.indexOf("<body>"));
        if (/[<>]/.test(name)) expect(body).not.toContain(name);
        await page.setContent(doc.html, { waitUntil: "load" });
        const parsed = await page.evaluate(() => ({
          elements: document.querySelectorAll("body *").length,
          text: document.getElementById("l0")?.textContent,
        }));
        // Control characters are dropped: they have no glyphs; everything else prints as typed.
        // biome-ignore lint/suspicious/noControlCharactersInRegex: the renderer's own rule
        const printable = name.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, "");
        expect(parsed).toEqual({ elements: 1, text: `Hello, ${printable}!` });
        expect(escapeHtml(name)).not.toMatch(/[<>"']/);
      }
    });
    expect(connections).toBe(0);
  });

  it("as names on every kind of page, renders with zero requests reaching the listener", async () => {
    const templates = [layer({ template: "{child_name}", position: "top-left", size: "accent", font: "accent" })];
    const manifest = testManifest({
      page_2: [layer({ template: "Once, {child_name} said hello." }), ...templates],
      cover_front: templates,
    });
    for (const [i, name] of corpus().entries()) {
      const page: PageId = i % 3 === 0 ? "cover_front" : "page_2";
      const rendered = await renderPage(typesetter, {
        manifest,
        page,
        background: await background(manifest, page),
        variables: { child_name: name, child_age: 5 },
        readBookFile,
      });
      expect(rendered.textBoxes.length).toBeGreaterThan(0);
    }
    expect(connections).toBe(0);
  });

  it("in raw HTML (as if escaping failed), still cannot reach the network or files: the typesetter blocks it", async () => {
    const manifest = testManifest();
    const secret = path.join(tmpdir(), `faceapp-secret-${process.pid}.html`);
    // If Chromium ever loaded this file, its image would hit the listener.
    await writeFile(secret, `<img src="http://127.0.0.1:${port}/from-file">`);
    const raw = `${corpus().join("\n")}<iframe src="file://${secret}"></iframe><img src="http://localhost:${port}/l">`;
    const html = `<!doctype html><html><head><style>@import url(http://127.0.0.1:${port}/head.css);
@font-face{font-family:x;src:url(http://127.0.0.1:${port}/font.woff2)} body{font-family:x;background:url(file://${secret})}</style></head>
<body><div id="l0" style="position:absolute;left:200px;top:200px;width:1000px">${raw}</div></body></html>`;
    const before = typesetter.stats.blockedRequests;
    const doc = {
      html,
      width: 2551,
      height: 2551,
      layers: [
        {
          box: { left: 200, width: 1000, anchor: "top" as const, y: 200, maxHeight: 2000 },
          fontPx: 16,
          lineHeight: 1.2,
          text: "",
        },
      ],
    };
    // A meta refresh may replace the page with Chromium's error page, so the render itself may fail:
    // what matters is that nothing left the browser.
    await typesetter.typeset(doc, safeRect(manifest, "page_1", pageArt(manifest, "page_1"))).catch(() => {});
    // Requests were attempted and every one was aborted before leaving Chromium.
    expect(typesetter.stats.blockedRequests).toBeGreaterThan(before);
    expect(connections).toBe(0);
  });
});
