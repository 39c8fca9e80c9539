/**
 * Builds an ONNX graph node by node: unique value names, float32 and int64 constants, and the
 * model's bytes at the end. Values are named by the layer that makes them ("down1.b1.conv1.0/Conv"),
 * so a graph viewer (Netron) shows the library's own parameter keys.
 */
import { type OnnxAttribute, type OnnxModel, type OnnxNode, type OnnxTensor, type OnnxValueInfo, encodeModel } from "./modelProto";

/** ONNX opset 17 (onnx 1.12): every operator used here is in it, and ONNX Runtime 1.30 runs it (IR version 8). */
export const ONNX_OPSET = 17;

/** The graph's value names, shared by every network's graph and the session that feeds them. */
export const ONNX_INPUT_X = "x";
export const ONNX_INPUT_T_FRACTION = "t_fraction";
export const ONNX_INPUT_CONTEXT = "context";
export const ONNX_OUTPUT_NOISE = "noise";
/** The symbolic batch dimension: one graph runs any batch size. */
export const ONNX_BATCH = "batch";

/** Attribute values as plain numbers: an integer or integer list, or a float (ONNX attributes are typed). */
export type Attributes = Record<string, number | number[] | { float: number }>;

function toAttribute(value: number | number[] | { float: number }): OnnxAttribute {
  if (Array.isArray(value)) return { kind: "ints", value };
  if (typeof value === "number") return { kind: "int", value };
  return { kind: "float", value: value.float };
}

export class OnnxGraphBuilder {
  private readonly nodes: OnnxNode[] = [];
  private readonly initializers: OnnxTensor[] = [];
  private readonly usedNames = new Set<string>();
  private readonly int64Constants = new Map<string, string>();
  private readonly scalarConstants = new Map<number, string>();

  constructor(readonly name: string) {}

  /** `base`, or `base_2`, `base_3`, ... when taken: every value in a graph has its own name. */
  uniqueName(base: string): string {
    let name = base;
    for (let i = 2; this.usedNames.has(name); i++) name = `${base}_${i}`;
    this.usedNames.add(name);
    return name;
  }

  /** A float32 initializer; returns its value name. */
  float32(name: string, dims: number[], data: Float32Array): string {
    const unique = this.uniqueName(name);
    this.initializers.push({ name: unique, dims, type: "float32", data });
    return unique;
  }

  /** A float32 scalar (dims []), made once per value and shared. */
  scalar(value: number): string {
    let name = this.scalarConstants.get(value);
    if (!name) {
      name = this.float32(`const_${value}`, [], Float32Array.of(value));
      this.scalarConstants.set(value, name);
    }
    return name;
  }

  /** A 1-D int64 initializer (a shape for Reshape, axes, split sizes), made once per value list and shared. */
  int64(values: number[]): string {
    const key = values.join(",");
    let name = this.int64Constants.get(key);
    if (!name) {
      name = this.uniqueName(`int64_[${key}]`);
      this.initializers.push({ name, dims: [values.length], type: "int64", data: values });
      this.int64Constants.set(key, name);
    }
    return name;
  }

  /**
   * Appends one node (its operator as the ONNX operator spec defines it at opset 17) and returns
   * its output's name, `scope/opType` made unique.
   */
  op(opType: string, scope: string, inputs: string[], attributes: Attributes = {}): string {
    const output = this.uniqueName(`${scope}/${opType}`);
    const onnxAttributes: Record<string, OnnxAttribute> = {};
    for (const [key, value] of Object.entries(attributes)) onnxAttributes[key] = toAttribute(value);
    this.nodes.push({ opType, name: output, inputs, outputs: [output], attributes: onnxAttributes });
    return output;
  }

  /** The finished model's bytes, with `inputs` fed by the caller and `outputs` read back. */
  encode(inputs: OnnxValueInfo[], outputs: Array<{ value: string; info: OnnxValueInfo }>, producerVersion = "0.1.0"): Uint8Array {
    // A graph output is a named value; an Identity gives the last node's output its public name.
    for (const { value, info } of outputs) this.nodes.push({ opType: "Identity", name: `${info.name}/Identity`, inputs: [value], outputs: [info.name], attributes: {} });
    const model: OnnxModel = {
      graph: { name: this.name, nodes: this.nodes, initializers: this.initializers, inputs, outputs: outputs.map((o) => o.info) },
      opsetVersion: ONNX_OPSET,
      producerName: "sprite-diffusion",
      producerVersion,
    };
    return encodeModel(model);
  }
}

/**
 * `data` of a row-major tensor of `shape`, its axes permuted: out axis i is input axis perm[i]
 * (numpy's transpose). E.g. a conv filter [kh, kw, in, out] with perm [3, 2, 0, 1] becomes ONNX's
 * [out, in, kh, kw]. A new array.
 */
export function permuted(data: Float32Array, shape: number[], perm: number[]): Float32Array {
  const rank = shape.length;
  const outShape = perm.map((p) => shape[p]);
  const inStrides = new Array<number>(rank).fill(1);
  for (let i = rank - 2; i >= 0; i--) inStrides[i] = inStrides[i + 1] * shape[i + 1];
  const strides = perm.map((p) => inStrides[p]);
  const out = new Float32Array(data.length);
  const index = new Array<number>(rank).fill(0);
  for (let o = 0; o < out.length; o++) {
    let offset = 0;
    for (let i = 0; i < rank; i++) offset += index[i] * strides[i];
    out[o] = data[offset];
    for (let i = rank - 1; i >= 0; i--) {
      if (++index[i] < outShape[i]) break;
      index[i] = 0;
    }
  }
  return out;
}
