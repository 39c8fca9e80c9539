/**
 * Tile on wasm (src/lib/wasm/tile.ts, a broadcasting multiply): exactly the cpu backend's result
 * for the BatchNorm-gradient shape and for awkward ones, in every dtype it accepts.
 */
import * as tf from "@tensorflow/tfjs-core";
import { describe, expect, it } from "vitest";
import { broadcastShapes, tileConfig } from "../../src/lib/wasm/tile";
import { itOnWasm, product, readOn, uniform } from "./wasmBackend";

const CASES: Array<{ name: string; shape: number[]; reps: number[] }> = [
  { name: "BatchNorm's [1,1,1,C] to [N,H,W,C]", shape: [1, 1, 1, 5], reps: [3, 4, 2, 1] },
  { name: "every axis repeated", shape: [2, 3, 2], reps: [2, 3, 2] },
  { name: "a rank-1 tensor", shape: [4], reps: [3] },
  { name: "nothing repeated", shape: [2, 3], reps: [1, 1] },
  { name: "a scalar-like [1, 1]", shape: [1, 1], reps: [2, 5] },
  { name: "a zero repeat", shape: [2, 3], reps: [0, 2] },
  { name: "rank 6", shape: [2, 1, 2, 1, 2, 2], reps: [1, 2, 1, 3, 2, 1] },
];

describe("Tile on wasm", () => {
  it("merges the interleaved axes into the fewest broadcast dimensions", () => {
    expect(broadcastShapes([1, 1, 1, 64], [100, 16, 16, 1])).toEqual({ data: [1, 64], ones: [25600, 1] });
    expect(broadcastShapes([2, 3], [4, 1])).toEqual({ data: [1, 6], ones: [4, 1] });
    expect(broadcastShapes([2, 3], [1, 4])).toEqual({ data: [2, 1, 3], ones: [1, 4, 1] });
    expect(broadcastShapes([1, 1], [1, 1])).toEqual({ data: [], ones: [] });
  });

  itOnWasm("is this project's kernel", () => {
    expect(tf.getKernel("Tile", "wasm")).toBe(tileConfig);
  });

  for (const c of CASES) {
    for (const dtype of ["float32", "int32", "bool"] as const) {
      itOnWasm(`${c.name}, ${dtype}: equals the cpu backend's tile exactly`, async () => {
        const values = Array.from(uniform(product(c.shape), 71), (u) =>
          dtype === "float32" ? u : dtype === "int32" ? Math.round(u * 100) : u > 0 ? 1 : 0,
        );
        const run = () => tf.tile(tf.tensor(values, c.shape, dtype), c.reps);
        const [onWasm] = await readOn("wasm", run);
        const [onCpu] = await readOn("cpu", run);
        expect(onWasm.length).toBe(product(c.shape.map((d, i) => d * c.reps[i])));
        expect(Array.from(onWasm)).toEqual(Array.from(onCpu));
      });
    }
  }

  itOnWasm("keeps -0, infinities and NaN as they are (multiplying by 1 is exact)", async () => {
    const [out] = await readOn("wasm", () => tf.tile(tf.tensor1d([-0, Infinity, -Infinity, NaN]), [2]));
    expect(Object.is(out[0], -0)).toBe(true);
    expect(Array.from(out.slice(1, 4))).toEqual([Infinity, -Infinity, NaN]);
  });
});
