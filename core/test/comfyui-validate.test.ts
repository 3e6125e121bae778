import { describe, expect, it } from "vitest";
import { type ObjectInfo, validatePrompt, withFolderLists } from "../src/comfyui/index.ts";

// Rules of execution.py's validate_prompt the face workflow does not exercise on its own.

const node = (required: Record<string, unknown[]>, output: string[], extra: Partial<ObjectInfo[string]> = {}) =>
  ({ input: { required }, output, output_node: false, ...extra }) as ObjectInfo[string];

const info: ObjectInfo = {
  Load: node({ name: [["a.bin", "b.bin"]] }, ["MODEL"]),
  Any: node({}, ["*"]),
  Num: node({ n: ["INT", { min: 0, max: 10 }] }, ["INT"]),
  Many: node({ pick: ["COMBO", { options: Array.from({ length: 25 }, (_, i) => `m${i}`) }] }, ["MODEL"]),
  Save: node({ model: ["MODEL"] }, [], {
    output_node: true,
    input: { required: { model: ["MODEL"] }, optional: { extra: ["IMAGE"] } },
  }),
};

describe("validatePrompt", () => {
  it("queues the valid outputs and still reports the invalid ones' node errors", () => {
    const result = validatePrompt(
      {
        "1": { class_type: "Load", inputs: { name: "a.bin" } },
        "2": { class_type: "Save", inputs: { model: ["1", 0] } },
        "3": { class_type: "Load", inputs: { name: "zzz.bin" } },
        "4": { class_type: "Save", inputs: { model: ["3", 0] } },
      },
      info,
    );
    expect(result).toMatchObject({ ok: true, outputs: ["2"], node_errors: { "3": { dependent_outputs: ["4"] } } });
  });

  it("checks optional links too, lets * match any type, and converts literals as Python would", () => {
    const optional = validatePrompt(
      {
        "1": { class_type: "Load", inputs: { name: "a.bin" } },
        "2": { class_type: "Save", inputs: { model: ["1", 0], extra: ["1", 0] } },
      },
      info,
    );
    expect(optional).toMatchObject({ ok: false, node_errors: { "2": { errors: [{ type: "return_type_mismatch" }] } } });
    const any = validatePrompt(
      { "1": { class_type: "Any", inputs: {} }, "2": { class_type: "Save", inputs: { model: ["1", 0] } } },
      info,
    );
    expect(any.ok).toBe(true);
    const text = validatePrompt(
      {
        "1": { class_type: "Num", inputs: { n: "seven" } },
        "2": { class_type: "Save", inputs: { model: ["1", 0] } },
      },
      { ...info, Num: node({ n: ["INT", { min: 0, max: 10 }] }, ["MODEL"]) },
    );
    expect(text).toMatchObject({
      node_errors: {
        "1": {
          errors: [
            {
              type: "invalid_input_type",
              message: "Failed to convert an input value to a INT value",
              details: "n, seven, invalid literal for int() with base 10: 'seven'",
            },
          ],
        },
      },
    });
  });

  it("shortens a long list in value_not_in_list, and reads newer COMBO declarations", () => {
    const result = validatePrompt(
      {
        "1": { class_type: "Many", inputs: { pick: "m99" } },
        "2": { class_type: "Save", inputs: { model: ["1", 0] } },
      },
      info,
    );
    expect(result).toMatchObject({
      node_errors: {
        "1": { errors: [{ details: "pick: 'm99' not in (list of length 25)", extra_info: { input_config: null } }] },
      },
    });
  });

  it("fills folder-backed lists in both declaration styles", () => {
    const filled = withFolderLists(
      info,
      [
        { classType: "Load", input: "name", folder: "x" },
        { classType: "Many", input: "pick", folder: "x" },
      ],
      {
        x: ["z.bin", "c.bin"],
      },
    );
    expect(filled.Load!.input.required!.name).toEqual([["c.bin", "z.bin"]]);
    expect(filled.Many!.input.required!.pick![1]).toEqual({ options: ["c.bin", "z.bin"] });
  });
});
