// Preloaded into every child of `npm start` (node --import): when the parent is gone without having
// stopped us (killed with SIGKILL, say), this process is re-parented; it then stops itself as on
// SIGTERM, so the runners drain, the api closes, the embedded stores shut down: no orphans.
// `?grace=N` waits N seconds first (the stores outlive the processes that drain into them).
const parent = process.ppid;
const grace = Number(new URL(import.meta.url).searchParams.get("grace") ?? 0) * 1000;
const timer = setInterval(() => {
  if (process.ppid === parent) return;
  clearInterval(timer);
  setTimeout(() => process.kill(process.pid, "SIGTERM"), grace);
}, 1000);
timer.unref();
