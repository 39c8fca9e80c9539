/**
 * The ONNX messages this library writes, as plain objects, and their encoding to a ModelProto's
 * bytes (onnx/onnx.proto, IR version 8; field numbers below are that file's). Only what a
 * float32 inference graph needs: float32 and int64 tensors as raw_data, int / ints / float
 * attributes, inputs and outputs with a symbolic batch dimension.
 *
 *   ModelProto         ir_version 1, producer_name 2, producer_version 3, graph 7, opset_import 8
 *   OperatorSetIdProto domain 1, version 2
 *   GraphProto         node 1, name 2, initializer 5, input 11, output 12
 *   NodeProto          input 1, output 2, name 3, op_type 4, attribute 5
 *   AttributeProto     name 1, f 2, i 3, ints 8, type 20 (AttributeType FLOAT 1, INT 2, INTS 7)
 *   TensorProto        dims 1, data_type 2 (FLOAT 1, INT64 7), name 8, raw_data 9 (little-endian)
 *   ValueInfoProto     name 1, type 2
 *   TypeProto          tensor_type 1 -> TypeProto.Tensor: elem_type 1, shape 2
 *   TensorShapeProto   dim 1 -> Dimension: dim_value 1, dim_param 2
 */
import { ProtoWriter } from "./protobuf";

/** TensorProto.DataType values used here. */
export const ONNX_FLOAT = 1;
export const ONNX_INT64 = 7;

/** ONNX IR version 8: the IR of opset 17 (onnx 1.12); ONNX Runtime 1.30 reads it. */
export const ONNX_IR_VERSION = 8;

/** A constant (an initializer): float32 weights, or int64 shapes and axes. */
export type OnnxTensor =
  | { name: string; dims: number[]; type: "float32"; data: Float32Array }
  | { name: string; dims: number[]; type: "int64"; data: number[] };

/** One attribute value: an int, a list of ints, or a float. */
export type OnnxAttribute = { kind: "int"; value: number } | { kind: "ints"; value: number[] } | { kind: "float"; value: number };

export interface OnnxNode {
  opType: string;
  name: string;
  inputs: string[];
  outputs: string[];
  attributes: Record<string, OnnxAttribute>;
}

/** A graph input or output: float32, each dimension a size or a symbolic name (e.g. "batch"). */
export interface OnnxValueInfo {
  name: string;
  dims: Array<number | string>;
}

export interface OnnxGraph {
  name: string;
  nodes: OnnxNode[];
  initializers: OnnxTensor[];
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
}

export interface OnnxModel {
  graph: OnnxGraph;
  /** The default domain's opset version (e.g. 17). */
  opsetVersion: number;
  producerName: string;
  producerVersion: string;
}

function tensorRawData(tensor: OnnxTensor): Uint8Array {
  if (tensor.type === "float32") {
    const bytes = new Uint8Array(tensor.data.length * 4);
    const view = new DataView(bytes.buffer);
    tensor.data.forEach((v, i) => view.setFloat32(i * 4, v, true));
    return bytes;
  }
  const bytes = new Uint8Array(tensor.data.length * 8);
  const view = new DataView(bytes.buffer);
  tensor.data.forEach((v, i) => view.setBigInt64(i * 8, BigInt(v), true));
  return bytes;
}

function writeTensor(w: ProtoWriter, tensor: OnnxTensor): void {
  const expected = tensor.dims.reduce((a, b) => a * b, 1);
  if (tensor.data.length !== expected) throw new Error(`ONNX tensor "${tensor.name}": ${tensor.data.length} values for dims [${tensor.dims}] (${expected}).`);
  for (const d of tensor.dims) w.int(1, d);
  w.int(2, tensor.type === "float32" ? ONNX_FLOAT : ONNX_INT64);
  w.string(8, tensor.name);
  w.bytes(9, tensorRawData(tensor));
}

function writeAttribute(w: ProtoWriter, name: string, attribute: OnnxAttribute): void {
  w.string(1, name);
  if (attribute.kind === "float") w.float(2, attribute.value).int(20, 1);
  else if (attribute.kind === "int") w.int(3, attribute.value).int(20, 2);
  else {
    for (const v of attribute.value) w.int(8, v);
    w.int(20, 7);
  }
}

function writeNode(w: ProtoWriter, node: OnnxNode): void {
  for (const input of node.inputs) w.string(1, input);
  for (const output of node.outputs) w.string(2, output);
  w.string(3, node.name);
  w.string(4, node.opType);
  for (const [name, attribute] of Object.entries(node.attributes)) w.message(5, (a) => writeAttribute(a, name, attribute));
}

function writeValueInfo(w: ProtoWriter, info: OnnxValueInfo): void {
  w.string(1, info.name);
  w.message(2, (type) =>
    type.message(1, (tensorType) => {
      tensorType.int(1, ONNX_FLOAT);
      tensorType.message(2, (shape) => {
        for (const d of info.dims) shape.message(1, (dim) => (typeof d === "number" ? dim.int(1, d) : dim.string(2, d)));
      });
    }),
  );
}

function writeGraph(w: ProtoWriter, graph: OnnxGraph): void {
  for (const node of graph.nodes) w.message(1, (n) => writeNode(n, node));
  w.string(2, graph.name);
  for (const tensor of graph.initializers) w.message(5, (t) => writeTensor(t, tensor));
  for (const input of graph.inputs) w.message(11, (v) => writeValueInfo(v, input));
  for (const output of graph.outputs) w.message(12, (v) => writeValueInfo(v, output));
}

/** The model's bytes, as onnxruntime's InferenceSession.create(bytes) and onnx.load take them. */
export function encodeModel(model: OnnxModel): Uint8Array {
  const w = new ProtoWriter();
  w.int(1, ONNX_IR_VERSION);
  w.string(2, model.producerName);
  w.string(3, model.producerVersion);
  w.message(7, (g) => writeGraph(g, model.graph));
  // The default domain "" (ai.onnx) is the empty string: an absent field 1.
  w.message(8, (opset) => opset.int(2, model.opsetVersion));
  return w.finish();
}
