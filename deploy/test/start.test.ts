// `npm start` as a newcomer runs it: a fresh clone in a temporary folder, `npm ci`, then what
// `npm start` runs, with its own data folder and free ports. It must generate and import the demo
// books, print the URL, carry a personalisation through the API from sign-up to the print files, and
// leave no process behind after Ctrl-C (SIGINT to its process group, as a terminal sends it).
import fs from "node:fs";
import { fixturePath } from "@faceapp/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { descendants, freshClone, holding, type Started, startApp, stillRunning } from "./start-helpers.ts";

const photoPath = fixturePath("face-astronaut.png");

let app: Started;
let clone: string;
let baseUrl: string;
const output = () => app.output();

beforeAll(async () => {
  clone = freshClone();
  app = await startApp({}, 150_000, clone);
  baseUrl = app.url;
}, 300_000);

afterAll(() => {
  app?.cleanup();
  if (clone) fs.rmSync(clone, { recursive: true, force: true });
});

async function api(pathname: string, init: RequestInit & { token?: string; json?: unknown } = {}) {
  const headers: Record<string, string> = { ...(init.headers as Record<string, string>) };
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  if (init.json !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(new URL(pathname, baseUrl), {
    ...init,
    headers,
    body: init.json !== undefined ? JSON.stringify(init.json) : init.body,
    redirect: "manual",
  });
  return res;
}

async function waitForStatus(token: string, id: string, wanted: string, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  let status = "";
  while (Date.now() < deadline) {
    const body = (await (await api(`/v1/personalizations/${id}`, { token })).json()) as { status: string };
    status = body.status;
    if (status === wanted) return body;
    if (/failed|canceled/.test(status)) throw new Error(`personalisation ${status} while waiting for ${wanted}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`still ${status} after ${timeoutMs} ms, waiting for ${wanted}\n${output().slice(-3000)}`);
}

describe("npm start on a bare machine", () => {
  it("prints the URL of a ready api, with the demo books imported and every part's logs prefixed", async () => {
    expect(baseUrl).toMatch(/^http:\/\/localhost:\d+$/);
    expect((await api("/readyz")).status).toBe(200);
    const books = (await (await api("/v1/books")).json()) as { items: { slug: string }[] };
    expect(books.items.map((b) => b.slug)).toEqual(expect.arrayContaining(["dyvokrai", "land-of-wonders"]));
    // The web app, built for this origin, served by the api.
    const page = await api("/");
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toMatch(/text\/html/);
    // No GPU named: the composite face engine.
    expect(output()).toMatch(/gpu-runner .*composite/);
    for (const part of ["services", "api", "gpu-runner", "render-runner"])
      expect(output()).toMatch(new RegExp(`^\\d\\d:\\d\\d:\\d\\d ${part} +INFO`, "m"));
  });

  it("completes a personalisation through the API: upload, analysis, preview, confirm, print files", async () => {
    const signup = await api("/v1/auth/signup", {
      method: "POST",
      json: { email: `start-${Date.now()}@example.com`, password: "correct horse battery" },
    });
    expect(signup.status).toBe(201);
    const { token } = (await signup.json()) as { token: string };

    const bytes = fs.readFileSync(photoPath);
    const ticketRes = await api("/v1/uploads", {
      method: "POST",
      token,
      json: { contentType: "image/png", byteSize: bytes.length },
    });
    expect(ticketRes.status).toBe(201);
    const ticket = (await ticketRes.json()) as { id: string; url: string; fields: Record<string, string> };
    const form = new FormData();
    for (const [name, value] of Object.entries(ticket.fields)) form.append(name, value);
    form.append("file", new Blob([new Uint8Array(bytes)], { type: "image/png" }), "face-astronaut.png");
    const posted = await fetch(ticket.url, { method: "POST", body: form });
    expect(posted.ok).toBe(true);
    expect((await api(`/v1/uploads/${ticket.id}/complete`, { method: "POST", token })).status).toBe(200);

    const created = await api("/v1/personalizations", {
      method: "POST",
      token,
      json: { bookSlug: "land-of-wonders", photoUploadId: ticket.id },
    });
    expect(created.status).toBe(202);
    const { id } = (await created.json()) as { id: string };
    const t0 = Date.now();
    await waitForStatus(token, id, "analyzed", 60_000);
    const t1 = Date.now();

    const generate = await api(`/v1/personalizations/${id}/generate`, {
      method: "POST",
      token,
      json: { childName: "Ada" },
    });
    expect(generate.status).toBe(202);
    const preview = (await waitForStatus(token, id, "preview_ready", 120_000)) as unknown as {
      pages: { stage: string; status: string; webUrl: string | null }[];
    };
    const previewPages = preview.pages.filter((p) => p.stage === "preview");
    expect(previewPages.length).toBeGreaterThan(0);
    expect(previewPages.every((p) => p.status === "done" && p.webUrl)).toBe(true);

    expect((await api(`/v1/personalizations/${id}/confirm`, { method: "POST", token })).status).toBe(202);
    const t2 = Date.now();
    await waitForStatus(token, id, "completed", 150_000);
    console.log(
      `[npm start] analysis ${t1 - t0} ms, preview ${t2 - t1} ms, full book and print files ${Date.now() - t2} ms`,
    );
    const file = await api(`/v1/personalizations/${id}/files/block.pdf`, { token });
    expect(file.status).toBe(302);
    const pdf = await fetch(file.headers.get("location")!);
    expect(pdf.ok).toBe(true);
    expect(
      Buffer.from(await pdf.arrayBuffer())
        .subarray(0, 5)
        .toString("latin1"),
    ).toBe("%PDF-");
  }, 360_000);

  it("stops everything on Ctrl-C: children drained, Postgres stopped, no process left", async () => {
    const tree = descendants(app.child.pid!);
    const commands = [...tree.values()];
    expect(commands.some((c) => c.includes("postgres"))).toBe(true);
    expect(commands.some((c) => c.includes("render-runner.ts"))).toBe(true);
    expect(commands.some((c) => c.includes("chromium"))).toBe(true);

    process.kill(-app.child.pid!, "SIGINT");
    const code = await Promise.race([app.exited, new Promise((r) => setTimeout(() => r("timeout"), 60_000))]);
    expect(code, output().slice(-3000)).toBe(0);
    expect(output()).toMatch(/start +INFO +stopped/);

    const left = [...tree].filter(([pid, command]) => stillRunning(pid, command));
    expect(left.map(([pid, command]) => `${pid} ${command.slice(0, 120)}`)).toEqual([]);
    // Nothing at all still holds the data folder (the embedded Postgres runs from it).
    expect(holding(app.dataDir)).toEqual([]);
  }, 90_000);
});
