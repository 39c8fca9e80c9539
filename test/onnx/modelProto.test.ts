/**
 * The hand-written ONNX writer: protobuf bytes against the wire format's own examples, weight
 * permutations against tf.transpose, and a small graph's bytes loaded and run by onnxruntime-node.
 */
import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, it } from "vitest";
import { OnnxGraphBuilder, permuted } from "../../src/lib/onnx/graphBuilder";
import { ProtoWriter } from "../../src/lib/onnx/protobuf";
import { loadOnnxRuntime } from "../../src/lib/onnx/runtime";
import { useTestBackend } from "../helpers/backends";
import { TEST_ONNX_THREADS, describeWithOnnxRuntime } from "./fixtures";

describe("protobuf wire encoding", () => {
  it("writes varints, negative int64s, floats, strings and embedded messages as the encoding guide does", () => {
    // protobuf.dev/programming-guides/encoding: field 1 = 150 is 08 96 01; 300 is ac 02.
    expect([...new ProtoWriter().int(1, 150).finish()]).toEqual([0x08, 0x96, 0x01]);
    expect([...new ProtoWriter().int(2, 300).finish()]).toEqual([0x10, 0xac, 0x02]);
    // int64 -1: ten bytes of two's complement (nine 0xff, then 0x01).
    expect([...new ProtoWriter().int(3, -1).finish()]).toEqual([0x18, ...new Array(9).fill(0xff), 0x01]);
    // A float is wire type 5: 1.0f is 00 00 80 3f little-endian.
    expect([...new ProtoWriter().float(2, 1).finish()]).toEqual([0x15, 0x00, 0x00, 0x80, 0x3f]);
    // The guide's string example: field 2 = "testing" is 12 07 74 65 73 74 69 6e 67.
    expect([...new ProtoWriter().string(2, "testing").finish()]).toEqual([0x12, 0x07, ...Buffer.from("testing")]);
    // An embedded message is length-delimited: field 3 = {1: 150} is 1a 03 08 96 01.
    expect([...new ProtoWriter().message(3, (m) => m.int(1, 150)).finish()]).toEqual([0x1a, 0x03, 0x08, 0x96, 0x01]);
    // Growing past the first buffer keeps every byte.
    const long = new Uint8Array(1000).map((_, i) => i % 251);
    expect([...new ProtoWriter().bytes(1, long).finish().subarray(3)]).toEqual([...long]);
  });

  it("refuses a number that is not a safe integer", () => {
    expect(() => new ProtoWriter().int(1, 0.5)).toThrow(/0.5 is not a safe integer/);
  });
});

describe("the graph builder", () => {
  it("names every value once: a repeated scope gets a suffix", () => {
    const g = new OnnxGraphBuilder("names");
    expect([g.op("Relu", "block", ["x"]), g.op("Relu", "block", ["x"])]).toEqual(["block/Relu", "block/Relu_2"]);
    expect(g.int64([0, 4])).toBe(g.int64([0, 4]));
    expect(g.scalar(0.5)).toBe(g.scalar(0.5));
  });
});

describe("weight permutations", () => {
  beforeAll(async () => {
    await useTestBackend();
  });

  it("equal tf.transpose for the conv and transposed-conv layouts", () => {
    const shape = [3, 2, 4, 5];
    const data = Float32Array.from({ length: 120 }, (_, i) => i);
    for (const perm of [[3, 2, 0, 1], [0, 3, 1, 2], [1, 0, 3, 2]]) {
      const expected = tf.tidy(() => tf.transpose(tf.tensor(data, shape), perm).dataSync());
      expect([...permuted(data, shape, perm)]).toEqual([...expected]);
    }
  });
});

describeWithOnnxRuntime("the writer's bytes in onnxruntime-node", () => {
  it("load and compute: Reshape(x) * w + b, then Gemm, with a symbolic batch", async () => {
    const g = new OnnxGraphBuilder("tiny");
    const w = g.float32("w", [1, 3], Float32Array.of(1, 2, 3));
    const b = g.float32("b", [3], Float32Array.of(0.5, -0.5, 0));
    const flat = g.op("Reshape", "r", ["x", g.int64([-1, 3])]);
    const scaled = g.op("Add", "a", [g.op("Mul", "m", [flat, w]), b]);
    const product = g.op("Gemm", "gemm", [scaled, g.float32("m", [3, 2], Float32Array.of(1, 0, 0, 1, 1, 1))], { transB: 0, alpha: { float: 2 } });
    const bytes = g.encode([{ name: "x", dims: ["batch", 3, 1] }], [{ value: product, info: { name: "y", dims: ["batch", 2] } }]);
    const ort = loadOnnxRuntime();
    const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: TEST_ONNX_THREADS });
    expect(session.inputNames).toEqual(["x"]);
    expect(session.outputNames).toEqual(["y"]);
    const { y } = await session.run({ x: new ort.Tensor("float32", Float32Array.of(1, 1, 1, 2, 0, -1), [2, 3, 1]) });
    // Rows [1.5, 1.5, 3] and [2.5, -0.5, -3]; times [[1, 0], [0, 1], [1, 1]]; times 2.
    expect(y.dims).toEqual([2, 2]);
    expect([...(y.data as Float32Array)]).toEqual([9, 9, -1, -7]);
    await session.release();
  });
});
