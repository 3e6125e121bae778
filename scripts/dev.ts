// `npm run dev`: the whole product for development, as `npm start` is for use. The same stores,
// migrations and demo books (scripts/stack.ts); the api and both runners under `node --watch`, each
// restarted (after draining) when a file it imports changes; and Vite's dev server on DEV_WEB_PORT
// with hot reload, proxying /api to the api on PORT. Ctrl-C stops everything, the stores last.
import path from "node:path";
import { repoRoot } from "@faceapp/core";
import { env } from "./env.ts";
import { dataDir, prepare, startBackend } from "./stack.ts";
import { createSupervisor } from "./supervisor.ts";

const sup = createSupervisor("dev");

sup.main(async () => {
  const started = performance.now();
  sup.say("starting faceapp for development", { dataDir });
  const stores = await prepare(sup);
  if (sup.stopping) return;
  const web = `http://localhost:${env.DEV_WEB_PORT}`;
  const apiUrl = `http://127.0.0.1:${env.PORT}`;
  // Vite first: it starts in a second, and the browser's requests wait for the api behind it.
  const vite = sup.run(
    "web",
    path.join(repoRoot, "node_modules/vite/bin/vite.js"),
    // A port taken is an error rather than a silent move to the next one the proxy targets never see.
    ["serve", "web", "--port", String(env.DEV_WEB_PORT), "--strictPort"],
    // The app calls /api (VITE_API_BASE_URL's default), which Vite proxies to API_URL.
    { ...stores.childEnv, API_URL: apiUrl },
    // Vite closes its server on SIGTERM and then exits 143.
    { service: true, typescript: false, cleanExitCodes: [0, 143] },
  );
  await startBackend(sup, stores, {
    // The api serves no web app: Vite does, from the sources.
    webDist: "off",
    webOrigin: `${web},http://127.0.0.1:${env.DEV_WEB_PORT},http://localhost:${env.PORT}`,
    watch: true,
  });
  await sup.waitForHttp(web, vite, 60_000);
  if (sup.stopping) return;
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  process.stdout.write(
    `\n  faceapp (development) is running at ${web}  (api: ${apiUrl}, docs ${apiUrl}/docs; started in ${seconds} s;` +
      " the api and runners restart on change, the web app reloads itself; Ctrl-C stops it)\n\n",
  );
}, "dev");
