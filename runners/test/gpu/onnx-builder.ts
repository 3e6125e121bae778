// Just enough of ONNX's protobuf encoding to build the tiny models the session-glue tests run
// (ModelProto → GraphProto → NodeProto / TensorProto / ValueInfoProto), so no Python is needed.

type Field = Buffer;

function varint(n: number | bigint): Buffer {
  let v = BigInt(n);
  const out: number[] = [];
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) byte |= 0x80;
    out.push(byte);
  } while (v > 0n);
  return Buffer.from(out);
}
const key = (field: number, wire: number) => varint((field << 3) | wire);
const int = (field: number, n: number): Field => Buffer.concat([key(field, 0), varint(n)]);
const bytes = (field: number, b: Buffer): Field => Buffer.concat([key(field, 2), varint(b.length), b]);
const str = (field: number, s: string): Field => bytes(field, Buffer.from(s, "utf8"));
const msg = (field: number, ...parts: Field[]): Field => bytes(field, Buffer.concat(parts));

const FLOAT = 1;

/** A float tensor initializer. */
export function tensor(name: string, dims: number[], values: number[]): Field {
  const raw = Buffer.alloc(values.length * 4);
  for (const [i, v] of values.entries()) raw.writeFloatLE(v, i * 4);
  return msg(5, ...dims.map((d) => int(1, d)), int(2, FLOAT), str(8, name), bytes(9, raw));
}

function valueInfo(field: number, name: string, dims: number[]): Field {
  const shape = msg(2, ...dims.map((d) => msg(1, int(1, d))));
  return msg(field, str(1, name), msg(2, msg(1, int(1, FLOAT), shape)));
}

export interface NodeSpec {
  op: string;
  inputs: string[];
  outputs: string[];
  /** Integer attributes (e.g. keepdims). */
  ints?: Record<string, number>;
}

function node(spec: NodeSpec, index: number): Field {
  const attrs = Object.entries(spec.ints ?? {}).map(([name, value]) => msg(5, str(1, name), int(3, value), int(20, 2)));
  return msg(
    1,
    ...spec.inputs.map((i) => str(1, i)),
    ...spec.outputs.map((o) => str(2, o)),
    str(3, `n${index}`),
    str(4, spec.op),
    ...attrs,
  );
}

/** A whole model: opset 13, float inputs and outputs of fixed shapes. */
export function buildModel(spec: {
  inputs: Array<[string, number[]]>;
  outputs: Array<[string, number[]]>;
  initializers: Field[];
  nodes: NodeSpec[];
}): Buffer {
  const graph = msg(
    7,
    ...spec.nodes.map(node),
    str(2, "test"),
    ...spec.initializers,
    ...spec.inputs.map(([n, d]) => valueInfo(11, n, d)),
    ...spec.outputs.map(([n, d]) => valueInfo(12, n, d)),
  );
  return Buffer.concat([int(1, 8), str(2, "faceapp-test"), graph, msg(8, str(1, ""), int(2, 13))]);
}
