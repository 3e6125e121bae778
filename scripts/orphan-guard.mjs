// Preloaded into every child of `npm start` and `npm run dev` (node --import): when the parent is gone
// without having stopped us (killed with SIGKILL, say), this process is re-parented; it then stops
// itself as on SIGTERM, so the runners drain, the api closes, the embedded stores shut down: no orphans.
// `?grace=N` waits N seconds first (the stores outlive the processes that drain into them).
// `?supervisor=PID`: under `node --watch` our parent is node's watcher, which outlives the supervisor;
// when the supervisor is gone we SIGTERM the watcher, which stops us as on SIGTERM and then exits.
const params = new URL(import.meta.url).searchParams;
const parent = process.ppid;
const grace = Number(params.get("grace") ?? 0) * 1000;
const supervisor = Number(params.get("supervisor") ?? 0);

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === "EPERM";
  }
}

const timer = setInterval(() => {
  const orphaned = process.ppid !== parent;
  if (!orphaned && !(supervisor && !alive(supervisor))) return;
  clearInterval(timer);
  setTimeout(() => process.kill(orphaned ? process.pid : parent, "SIGTERM"), grace);
}, 1000);
timer.unref();
