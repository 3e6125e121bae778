// Hostile text through the whole pipeline: a book whose manifest text is HTML aimed at a listener, and
// child names at the edge of what the api accepts, rendered by a real render runner into the print
// files. Names carrying markup are refused at the door; the rest print literally; Chromium never
// reaches the listener.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { sql } from "kysely";
import { redisUrl, serviceEnv, skipAnalysis, spawnRunner, type Spawned } from "@faceapp/testkit";
import { afterAll, beforeAll, expect, it } from "vitest";
import {
  bearer,
  body,
  jsonInit,
  signUp,
  useApi,
  book,
  createPersonalization,
  readyPhoto,
  waitForStatus,
} from "@faceapp/testkit/api";

const api = useApi();
let listener: http.Server;
let requests = 0;
let base = "";
let runner: Spawned;

beforeAll(async () => {
  listener = http.createServer((_req, res) => {
    requests++;
    res.end("x");
  });
  listener.on("connection", () => requests++);
  await new Promise<void>((resolve) => listener.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(listener.address() as { port: number }).port}`;
  runner = await spawnRunner("render", serviceEnv(api.pg.url, api.s3Config, redisUrl));
}, 120_000);
afterAll(async () => {
  await runner?.stop();
  await new Promise((resolve) => listener.close(resolve));
});

it("refuses names that carry markup, controls or direction overrides, in the envelope", async () => {
  await book(api, { slug: "hostile-refuse" });
  const user = await signUp(api.app);
  const photo = await readyPhoto(api.app, user.token);
  const { id } = await body(await createPersonalization(api.app, user.token, "hostile-refuse", photo));
  await sql`update app.personalizations set status = 'analyzed', analysis = '{"ok":true}' where id = ${id}`.execute(
    api.pg.db,
  );
  for (const childName of [
    `<img src="${base}/n">`,
    "Ada</div><script>x</script>",
    "Ada\u0000",
    "\u202eadA",
    "{child_age}",
    "a".repeat(41),
  ]) {
    const res = await api.app.request(
      `/v1/personalizations/${id}/generate`,
      jsonInit("POST", { childName }, bearer(user.token)),
    );
    expect(res.status, childName).toBe(400);
    expect((await body(res)).error.code).toBe("invalid_input");
  }
});

it("prints manifest HTML and edge-case names literally into the PDF, with no request leaving Chromium", async () => {
  const hostile = [
    `<img src="${base}/img" onerror="fetch('${base}/js')">`,
    `<link rel="stylesheet" href="${base}/css"><style>@import url(${base}/i.css);</style>`,
    `<iframe src="file:///etc/passwd"></iframe><base href="${base}/">`,
    "{child_name}",
  ].join(" ");
  await book(api, { slug: "hostile-print", facePages: [], previewPages: [1], text: hostile });
  const user = await signUp(api.app);
  const photo = await readyPhoto(api.app, user.token);
  // Letters with stacked combining marks and apostrophes, right-to-left script, the longest name
  // allowed: each through its preview at once; the first on to the print files.
  const names = ["Z̷̛̖a̴̡͝l̸̢͠g̵̨͝o̶̢͝ O'Brien", "אדה-עדה ’Ада", "Ю".repeat(40)];
  const ids: string[] = [];
  for (const childName of names) {
    const { id } = await body(await createPersonalization(api.app, user.token, "hostile-print", photo));
    await skipAnalysis(api.pg, id);
    const generate = await api.app.request(
      `/v1/personalizations/${id}/generate`,
      jsonInit("POST", { childName }, bearer(user.token)),
    );
    expect(generate.status).toBe(202);
    ids.push(id);
  }
  for (const id of ids) {
    const ready = await waitForStatus(api.app, user.token, id, ["preview_ready", "generation_failed"]);
    expect(ready.status).toBe("preview_ready");
  }
  const [id] = ids as [string];
  await api.app.request(`/v1/personalizations/${id}/confirm`, { method: "POST", headers: bearer(user.token) });
  const done = await waitForStatus(api.app, user.token, id, ["completed", "generation_failed"], 180_000);
  expect(done.failureReason).toBeNull();
  expect(done.status).toBe("completed");
  const redirect = await api.app.request(`/v1/personalizations/${id}/files/block.pdf`, {
    headers: bearer(user.token),
  });
  const file = path.join(os.tmpdir(), `hostile-${id}.pdf`);
  fs.writeFileSync(file, Buffer.from(await (await fetch(redirect.headers.get("location")!)).arrayBuffer()));
  const info = execFileSync("pdfinfo", ["-enc", "UTF-8", file], { encoding: "utf8" });
  fs.rmSync(file);
  expect(info).toMatch(/Pages:\s+24/);
  // The name as the api stored it (NFC), character for character, in the PDF's title.
  expect(info).toContain(names[0]!.normalize("NFC"));
  expect(requests).toBe(0);
}, 600_000);
