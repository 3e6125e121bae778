// The api as tests see it (a real app on the test file's own database, bucket and Redis), and the
// helpers that drive it as a browser would: uploads, personalisations, the pipeline's starting points.
// A subpath of its own: only tests that need the api load it.
export * from "./app.ts";
export * from "./personalizations.ts";
export * from "./pipeline.ts";
export * from "./uploads.ts";
