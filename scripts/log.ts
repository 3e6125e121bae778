// One terminal for every part: each child's JSON log lines become `hh:mm:ss name  LEVEL message k=v`.
const LEVELS: Record<number, string> = { 10: "TRACE", 20: "DEBUG", 30: "INFO", 40: "WARN", 50: "ERROR", 60: "FATAL" };
const HIDDEN = new Set(["level", "time", "msg", "app", "name", "pid", "hostname", "v"]);
const COLOURS = [36, 35, 33, 32, 34, 96, 95];
const LEVEL_COLOURS: Record<string, number> = { WARN: 33, ERROR: 31, FATAL: 31, DEBUG: 90, TRACE: 90 };

export interface LinePrinter {
  /** Formats and writes one line of a part's output. */
  line(text: string, stream?: "stdout" | "stderr"): void;
  /** Splits a stream's chunks into lines. */
  attach(readable: NodeJS.ReadableStream, stream: "stdout" | "stderr"): void;
}

function paint(code: number | undefined, text: string, colour: boolean): string {
  return colour && code ? `\x1b[${code}m${text}\x1b[0m` : text;
}

function value(v: unknown): string {
  if (typeof v === "string") return /\s/.test(v) ? JSON.stringify(v) : v;
  if (v && typeof v === "object" && "message" in v && "stack" in v) {
    const err = v as { message: string; stack?: string };
    return JSON.stringify(err.stack ?? err.message);
  }
  return JSON.stringify(v);
}

/** Formats one line: a pino JSON line readably, anything else as it is. */
export function formatLine(name: string, text: string, options: { colour: boolean; width: number; index: number }) {
  const now = new Date();
  let time = now.toISOString().slice(11, 19);
  let level = "";
  let message = text;
  let fields = "";
  if (text.startsWith("{")) {
    try {
      const record = JSON.parse(text) as Record<string, unknown>;
      if (typeof record.time === "string") time = record.time.slice(11, 19);
      level = LEVELS[record.level as number] ?? "";
      message = typeof record.msg === "string" ? record.msg : "";
      fields = Object.entries(record)
        .filter(([k]) => !HIDDEN.has(k))
        .map(([k, v]) => `${k}=${value(v)}`)
        .join(" ");
    } catch {
      // not JSON after all: printed as it came
    }
  }
  const label = paint(COLOURS[options.index % COLOURS.length], name.padEnd(options.width), options.colour);
  const lvl = level ? `${paint(LEVEL_COLOURS[level], level.padEnd(5), options.colour)} ` : "";
  const rest = fields ? ` ${paint(90, fields, options.colour)}` : "";
  return `${paint(90, time, options.colour)} ${label} ${lvl}${message}${rest}`;
}

let parts = 0;

/** A printer for one named part (a child process, or the parent itself). */
export function printer(name: string, colour: boolean, width = 14): LinePrinter {
  const index = parts++;
  const write = (text: string, stream: "stdout" | "stderr" = "stdout") => {
    const out = stream === "stderr" ? process.stderr : process.stdout;
    out.write(`${formatLine(name, text, { colour, width, index })}\n`);
  };
  return {
    line: write,
    attach(readable, stream) {
      let buffered = "";
      readable.setEncoding("utf8");
      readable.on("data", (chunk: string) => {
        buffered += chunk;
        const lines = buffered.split("\n");
        buffered = lines.pop() ?? "";
        for (const l of lines) if (l.trim()) write(l, stream);
      });
      readable.on("end", () => {
        if (buffered.trim()) write(buffered, stream);
        buffered = "";
      });
    },
  };
}
