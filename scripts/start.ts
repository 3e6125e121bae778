// `npm start`: the whole product on one machine, no Docker. Runs the embedded PostgreSQL and S3 in a
// process of their own (unless DATABASE_URL and AWS_ENDPOINT_URL name real ones), migrates, generates
// and imports the demo books the catalog lacks, builds the web app for this origin, then runs the api
// (serving that build), one gpu runner (composite face engine unless COMFY_BASE_URL / FACE_ENGINE say
// otherwise) and one render runner, all sharing those stores, their logs prefixed in one terminal.
// Ctrl-C (or SIGTERM) drains the api and runners, then stops the stores, then exits.
// `npm run dev` (scripts/dev.ts) is the same with restarts on change and Vite's dev server.
import fs from "node:fs";
import path from "node:path";
import { repoRoot } from "@faceapp/core";
import { env } from "./env.ts";
import { dataDir, prepare, startBackend } from "./stack.ts";
import { createSupervisor } from "./supervisor.ts";

const sup = createSupervisor("start");

/**
 * The web app for the api to serve: WEB_DIST_DIR as given, else a fresh build of web/ into the data
 * folder (about two seconds) with the api at the same origin (VITE_API_BASE_URL=""), so it always
 * matches the code and never disturbs web/dist. Without Vite (a production install) web/dist is used.
 */
async function webApp(childEnv: Record<string, string>): Promise<string> {
  if (env.WEB_DIST_DIR) return env.WEB_DIST_DIR;
  const vite = path.join(repoRoot, "node_modules/vite/bin/vite.js");
  const built = path.join(repoRoot, "web/dist");
  if (fs.existsSync(vite) && fs.existsSync(path.join(repoRoot, "web/index.html"))) {
    const outDir = path.join(dataDir, "web");
    sup.say("building the web app", { outDir });
    try {
      await sup.oneShot(
        "web:build",
        vite,
        ["build", "web", "--outDir", outDir, "--emptyOutDir", "--logLevel", "warn"],
        { ...childEnv, VITE_API_BASE_URL: "" },
        false,
      );
      return outDir;
    } catch (err) {
      sup.warn("the web app did not build; serving web/dist if there is one", { err: String(err) });
    }
  }
  if (fs.existsSync(path.join(built, "index.html"))) return built;
  sup.warn("no web app to serve (web/ not built): the api runs alone");
  return "off";
}

sup.main(async () => {
  const started = performance.now();
  sup.say("starting faceapp", { dataDir });
  const stores = await prepare(sup);
  if (sup.stopping) return;
  const webDist = await webApp(stores.childEnv);
  if (sup.stopping) return;
  const origin = `http://localhost:${env.PORT}`;
  await startBackend(sup, stores, {
    webDist,
    webOrigin: `${origin},http://127.0.0.1:${env.PORT},http://localhost:${env.DEV_WEB_PORT}`,
    watch: false,
  });
  if (sup.stopping) return;
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  process.stdout.write(
    `\n  faceapp is running at ${origin}  (API docs: ${origin}/docs; started in ${seconds} s; Ctrl-C stops it)\n\n`,
  );
}, "start");
