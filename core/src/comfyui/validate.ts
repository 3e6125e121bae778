import { type ApiPrompt, comboOptions, type InputSpec, type ObjectInfo } from "./object-info.ts";

// ComfyUI's prompt validation (execution.py `validate_prompt` / `validate_inputs`), rule for rule and
// with its error types, messages and shapes (docs/comfyui-protocol.md). One module serves the test
// double (what the server refuses), the gpu runner's start-up check and `npm run comfy:check`.

export interface NodeError {
  type: string;
  message: string;
  details: string;
  extra_info: Record<string, unknown>;
}

export interface NodeErrors {
  errors: NodeError[];
  dependent_outputs: string[];
  class_type: string;
}

export type PromptValidation =
  | { ok: true; outputs: string[]; node_errors: Record<string, NodeErrors> }
  | { ok: false; error: NodeError; outputs: string[]; node_errors: Record<string, NodeErrors> };

/**
 * A node class's `VALIDATE_INPUTS`: for the inputs it names, it replaces the list check and returns
 * true or the reason. ComfyUI runs it after the other checks and reports `custom_validation_failed`.
 */
export type CustomValidator = { inputs: string[]; validate(values: Record<string, unknown>): true | false | string };

export interface ValidateOptions {
  /** VALIDATE_INPUTS of node classes, by class type (see `loadImageValidator`). */
  custom?: Record<string, CustomValidator>;
}

/** LoadImage's VALIDATE_INPUTS (nodes.py): the file must exist in the input folder. */
export function loadImageValidator(exists: (name: string) => boolean): CustomValidator {
  return {
    inputs: ["image"],
    validate: ({ image }) => (exists(String(image)) ? true : `Invalid image file: ${String(image)}`),
  };
}

const err = (type: string, message: string, details: string, extra_info: Record<string, unknown> = {}): NodeError => ({
  type,
  message,
  details,
  extra_info,
});

/** Python's `str()` of a value, as ComfyUI's messages print it. */
export function pyStr(value: unknown, float = false): string {
  if (typeof value === "number") {
    if (float && Number.isInteger(value)) return `${value}.0`;
    return String(value);
  }
  if (typeof value === "boolean") return value ? "True" : "False";
  if (value === null || value === undefined) return "None";
  if (typeof value === "string") return value;
  if (Array.isArray(value)) return `[${value.map(pyRepr).join(", ")}]`;
  return JSON.stringify(value);
}

function pyRepr(value: unknown): string {
  if (typeof value === "string") return `'${value.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
  return pyStr(value);
}

/** validate_node_input: equal types, either side "*", or overlapping comma-separated unions. */
export function typesMatch(received: string, input: string): boolean {
  if (received === input || received === "*" || input === "*") return true;
  const a = new Set(received.split(","));
  return input.split(",").some((t) => a.has(t));
}

/** Python's int()/float() on an input value; null when it raises (message in `error`). */
function convert(type: string, value: unknown): { value: unknown } | { error: string } {
  if (type === "INT") {
    if (typeof value === "boolean") return { value: value ? 1 : 0 };
    if (typeof value === "number" && Number.isFinite(value)) return { value: Math.trunc(value) };
    if (typeof value === "string" && /^\s*[+-]?\d+\s*$/.test(value)) return { value: Number.parseInt(value, 10) };
    return { error: `invalid literal for int() with base 10: ${pyRepr(value)}` };
  }
  if (type === "FLOAT") {
    if (typeof value === "boolean") return { value: value ? 1 : 0 };
    if (typeof value === "number") return { value };
    if (typeof value === "string" && value.trim() !== "" && !Number.isNaN(Number(value)))
      return { value: Number(value) };
    return { error: `could not convert string to float: ${pyRepr(value)}` };
  }
  if (type === "STRING") return { value: pyStr(value) };
  if (type === "BOOLEAN") return { value: Boolean(value) };
  return { value };
}

/** A number under `min` or over `max`: the error type and message, as execution.py words them. */
function outOfRange(
  v: unknown,
  opts: Record<string, unknown>,
  float: boolean,
): { type: string; message: string } | null {
  if (typeof v !== "number") return null;
  if (typeof opts.min === "number" && v < opts.min) {
    return {
      type: "value_smaller_than_min",
      message: `Value ${pyStr(v, float)} smaller than min of ${pyStr(opts.min)}`,
    };
  }
  if (typeof opts.max === "number" && v > opts.max) {
    return { type: "value_bigger_than_max", message: `Value ${pyStr(v, float)} bigger than max of ${pyStr(opts.max)}` };
  }
  return null;
}

type Verdict = { ok: boolean; errors: NodeError[] };

class Run {
  readonly validated = new Map<string, Verdict>();
  constructor(
    readonly prompt: ApiPrompt,
    readonly info: ObjectInfo,
    readonly options: ValidateOptions,
  ) {}

  node(id: string): Verdict {
    const seen = this.validated.get(id);
    if (seen) return seen;
    // A cycle is cut where it closes (the server breaks it the same way, by its memo).
    this.validated.set(id, { ok: true, errors: [] });
    const { class_type, inputs = {} } = this.prompt[id]!;
    const spec = this.info[class_type]!;
    const custom = this.options.custom?.[class_type];
    const errors: NodeError[] = [];
    let valid = true;
    const all: Array<[string, InputSpec, boolean]> = [
      ...Object.entries(spec.input.required ?? {}).map(([k, s]) => [k, s, true] as [string, InputSpec, boolean]),
      ...Object.entries(spec.input.optional ?? {}).map(([k, s]) => [k, s, false] as [string, InputSpec, boolean]),
    ];
    for (const [x, info, required] of all) {
      if (!(x in inputs)) {
        if (required) errors.push(err("required_input_missing", "Required input is missing", x, { input_name: x }));
        continue;
      }
      const val = inputs[x];
      const [type, opts = {}] = info;
      const typeName = Array.isArray(type) ? "COMBO" : type;
      if (Array.isArray(val)) {
        if (val.length !== 2) {
          errors.push(
            err("bad_linked_input", "Bad linked input, must be a length-2 list of [node_id, slot_index]", x, {
              input_name: x,
              input_config: info,
              received_value: val,
            }),
          );
          continue;
        }
        const source = this.prompt[String(val[0])];
        if (!source) throw new Error(`'${String(val[0])}'`);
        const received = this.info[source.class_type]?.output[Number(val[1])] ?? "None";
        if (!(custom?.inputs.includes(x) ?? false) && !typesMatch(received, typeName)) {
          errors.push(
            err(
              "return_type_mismatch",
              "Return type mismatch between linked nodes",
              `${x}, received_type(${received}) mismatch input_type(${typeName})`,
              { input_name: x, input_config: info, received_type: received, linked_node: val },
            ),
          );
          continue;
        }
        if (!this.node(String(val[0])).ok) valid = false;
        continue;
      }
      const converted = convert(typeName, val);
      if ("error" in converted) {
        errors.push(
          err(
            "invalid_input_type",
            `Failed to convert an input value to a ${typeName} value`,
            `${x}, ${pyStr(val)}, ${converted.error}`,
            {
              input_name: x,
              input_config: info,
              received_value: val,
              exception_message: converted.error,
            },
          ),
        );
        continue;
      }
      const v = converted.value;
      const limit = outOfRange(v, opts, typeName === "FLOAT");
      if (limit) {
        errors.push(err(limit.type, limit.message, x, { input_name: x, input_config: info, received_value: v }));
        continue;
      }
      const list = comboOptions(info);
      if (list && !(custom?.inputs.includes(x) ?? false) && !list.includes(v)) {
        const long = list.length > 20;
        errors.push(
          err(
            "value_not_in_list",
            "Value not in list",
            `${x}: '${pyStr(v)}' not in ${long ? `(list of length ${list.length})` : pyStr(list)}`,
            {
              input_name: x,
              input_config: long ? null : info,
              received_value: v,
            },
          ),
        );
      }
    }
    if (custom) {
      const values = Object.fromEntries(custom.inputs.filter((x) => x in inputs).map((x) => [x, inputs[x]]));
      const ret = custom.validate(values);
      if (ret !== true) {
        for (const x of Object.keys(values)) {
          errors.push(
            err("custom_validation_failed", "Custom validation failed for node", ret === false ? x : `${x} - ${ret}`, {
              input_name: x,
            }),
          );
        }
      }
    }
    const verdict = { ok: valid && errors.length === 0, errors };
    this.validated.set(id, verdict);
    return verdict;
  }
}

/** Validates an API-format prompt against an object_info as ComfyUI's `POST /prompt` does. */
export function validatePrompt(prompt: unknown, info: ObjectInfo, options: ValidateOptions = {}): PromptValidation {
  const fail = (error: NodeError): PromptValidation => ({ ok: false, error, outputs: [], node_errors: {} });
  if (!prompt || typeof prompt !== "object" || Array.isArray(prompt)) {
    return fail(err("no_prompt", "No prompt provided", "No prompt provided"));
  }
  const nodes = prompt as ApiPrompt;
  const outputs: string[] = [];
  for (const [id, node] of Object.entries(nodes)) {
    if (!node || typeof node !== "object" || typeof node.class_type !== "string") {
      return fail(
        err("invalid_prompt", "Cannot execute because a node is missing the class_type property.", `Node ID '#${id}'`),
      );
    }
    const cls = info[node.class_type];
    if (!cls) {
      return fail(
        err("invalid_prompt", `Cannot execute because node ${node.class_type} does not exist.`, `Node ID '#${id}'`),
      );
    }
    if (cls.output_node === true) outputs.push(id);
  }
  if (outputs.length === 0) return fail(err("prompt_no_outputs", "Prompt has no outputs", ""));

  const run = new Run(nodes, info, options);
  const good: string[] = [];
  const failed: Array<[string, NodeError[]]> = [];
  const nodeErrors: Record<string, NodeErrors> = {};
  for (const o of outputs) {
    let verdict: Verdict;
    try {
      verdict = run.node(o);
    } catch (e) {
      const reasons = [
        err("exception_during_validation", "Exception when validating node", (e as Error).message, {
          exception_type: "KeyError",
        }),
      ];
      verdict = { ok: false, errors: reasons };
      run.validated.set(o, verdict);
    }
    if (verdict.ok) {
      good.push(o);
      continue;
    }
    failed.push([o, verdict.errors]);
    for (const [id, v] of run.validated) {
      if (v.ok || v.errors.length === 0) continue;
      nodeErrors[id] ??= { errors: v.errors, dependent_outputs: [], class_type: nodes[id]!.class_type };
      nodeErrors[id].dependent_outputs.push(o);
    }
  }
  if (good.length === 0) {
    const details = failed.flatMap(([, errors]) => errors.map((e) => `${e.message}: ${e.details}`)).join("\n");
    return {
      ok: false,
      error: err("prompt_outputs_failed_validation", "Prompt outputs failed validation", details),
      outputs: [],
      node_errors: nodeErrors,
    };
  }
  return { ok: true, outputs: good, node_errors: nodeErrors };
}
