// Preloaded into the processes the benchmarks spawn (NODE_OPTIONS="--expose-gc --import …/preload.mjs";
// --cpu-prof may not be given there):
//   - SIGUSR2 runs a full garbage collection, so memory is read with only live objects on the heap;
//   - with BENCH_HEAP_DIR set, a heap snapshot is written there after that collection (compare two to
//     see what each stream, request or job keeps);
//   - with BENCH_CPU_PROF_DIR set, a CPU profile is written there when the process exits;
//   - with BENCH_GC_LOG set, each garbage collection's pause is appended to that file as a line
//     `<wall ms> <kind> <pause ms>` (bench:sse reads the ones within its latency window).
import fs from "node:fs";
import inspector from "node:inspector";
import path from "node:path";
import { constants, PerformanceObserver } from "node:perf_hooks";
import v8 from "node:v8";

const { BENCH_HEAP_DIR: heapDir, BENCH_CPU_PROF_DIR: dir, BENCH_GC_LOG: gcLog } = process.env;

if (gcLog) {
  const kinds = {
    [constants.NODE_PERFORMANCE_GC_MINOR]: "scavenge",
    [constants.NODE_PERFORMANCE_GC_MAJOR]: "mark-compact",
    [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: "incremental",
    [constants.NODE_PERFORMANCE_GC_WEAKCB]: "weak-callbacks",
  };
  new PerformanceObserver((list) => {
    const lines = list
      .getEntries()
      .map(
        (e) =>
          `${(performance.timeOrigin + e.startTime).toFixed(1)} ${kinds[e.detail?.kind] ?? "other"} ${e.duration.toFixed(2)}\n`,
      );
    fs.appendFileSync(gcLog, lines.join(""));
  }).observe({ entryTypes: ["gc"] });
}

process.on("SIGUSR2", () => {
  globalThis.gc?.();
  if (heapDir) {
    fs.mkdirSync(heapDir, { recursive: true });
    v8.writeHeapSnapshot(path.join(heapDir, `${process.pid}-${Date.now()}.heapsnapshot`));
  }
});

if (dir) {
  const session = new inspector.Session();
  session.connect();
  session.post("Profiler.enable");
  session.post("Profiler.start");
  // The in-thread session answers synchronously, so this works from the exit handler.
  process.on("exit", () => {
    session.post("Profiler.stop", (err, result) => {
      if (err) return;
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(path.join(dir, `${process.pid}.cpuprofile`), JSON.stringify(result.profile));
    });
  });
}
