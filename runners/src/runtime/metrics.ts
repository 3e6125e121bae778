import { Counter, collectDefaultMetrics, Histogram, Registry } from "prom-client";

// The runner's Prometheus metrics, served on its health port at /metrics (RUNNER_HEALTH_PORT): one
// registry per process, as the runner is one process.

export const registry = new Registry();
collectDefaultMetrics({ register: registry });

/** Each drawn face page's descriptor distance to the child's photo (docs/likeness.md), first draw and redraw. */
export const likenessDistance = new Histogram({
  name: "faceapp_likeness_distance",
  help: "Descriptor distance of a drawn face to the child's photo (lower is more alike), by draw",
  labelNames: ["draw"],
  buckets: [0.3, 0.4, 0.5, 0.55, 0.6, 0.65, 0.7, 0.8, 1],
  registers: [registry],
});

/**
 * Face pages by the likeness check's outcome: passed, passed_after_redraw, flagged (kept unlike the
 * child after its redraw), not_measured (no descriptor of the photo, or the measurement failed).
 */
export const likenessPages = new Counter({
  name: "faceapp_likeness_pages_total",
  help: "Face pages by likeness outcome: passed, passed_after_redraw, flagged, not_measured",
  labelNames: ["outcome"],
  registers: [registry],
});
