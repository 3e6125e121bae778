// npm start's combined log: each part's JSON lines made readable, anything else passed through.
import { describe, expect, it } from "vitest";
import { formatLine } from "../../scripts/log.ts";

const plain = { colour: false, width: 14, index: 0 };

describe("formatLine", () => {
  it("turns a pino line into time, part, level, message and the remaining fields", () => {
    const line = JSON.stringify({
      level: 30,
      time: "2026-11-29T07:02:58.123Z",
      app: "api",
      name: "api",
      pid: 1,
      hostname: "h",
      msg: "api listening",
      port: 8000,
      host: "0.0.0.0",
      note: "two words",
    });
    expect(formatLine("api", line, plain)).toBe(
      '07:02:58 api            INFO  api listening port=8000 host=0.0.0.0 note="two words"',
    );
  });

  it("names warnings and errors, and keeps an error's stack on one line", () => {
    const line = JSON.stringify({
      level: 50,
      time: "2026-11-29T07:02:58.000Z",
      msg: "failed",
      err: { message: "boom", stack: "Error: boom\n    at x" },
    });
    expect(formatLine("render-runner", line, plain)).toBe(
      '07:02:58 render-runner  ERROR failed err="Error: boom\\n    at x"',
    );
  });

  it("prints other output as it came, with the part's name", () => {
    expect(formatLine("books:import", "imported dyvokrai", plain)).toMatch(
      /^\d\d:\d\d:\d\d books:import {3}imported dyvokrai$/,
    );
    expect(formatLine("api", "{not json", plain)).toMatch(/ api {12}\{not json$/);
  });

  it("colours only when asked", () => {
    expect(formatLine("api", "x", { ...plain, colour: true })).toContain("\x1b[");
    expect(formatLine("api", "x", plain)).not.toContain("\x1b[");
  });
});
