// Shutting down with event streams open: they end, so the drain does not wait on them.
import { afterAll, expect, it } from "vitest";
import type { Spawned } from "@faceapp/testkit";
import {
  bearer,
  body,
  signUp,
  spawnApiProcess,
  useApi,
  book,
  createPersonalization,
  readyPhoto,
} from "@faceapp/testkit/api";

const api = useApi();
let server: Spawned | undefined;
afterAll(async () => {
  await server?.stop("SIGKILL");
});

it("ends open event streams on SIGTERM and exits 0", async () => {
  await book(api, { slug: "drain-book" });
  const user = await signUp(api.app);
  const photo = await readyPhoto(api.app, user.token);
  const { id } = await body(await createPersonalization(api.app, user.token, "drain-book", photo));
  const started = await spawnApiProcess(api);
  server = started.server;
  const { port } = started;
  const streams = await Promise.all(
    [1, 2].map(() =>
      fetch(`http://127.0.0.1:${port}/v1/personalizations/${id}/events`, { headers: bearer(user.token) }),
    ),
  );
  for (const res of streams) expect(res.status).toBe(200);
  const readers = streams.map((res) => res.body!.getReader());
  for (const reader of readers) expect((await reader.read()).done).toBe(false); // the replayed status event

  const code = started.server.stop("SIGTERM");
  for (const reader of readers) {
    let done = false;
    while (!done) done = (await reader.read()).done;
  }
  expect(await code).toBe(0);
  expect(started.server.logs.some((line) => line.msg === "in-flight requests did not finish in 25 s; exiting")).toBe(
    false,
  );
});
