/**
 * Identity on wasm (src/lib/wasm/identity.ts): a clone shares its source's buffer instead of
 * copying it, stays valid when the source is disposed, and frees the buffer with the last user.
 */
import * as tf from "@tensorflow/tfjs-core";
import { describe, expect } from "vitest";
import { identityConfig } from "../../src/lib/wasm/identity";
import { itOnWasm } from "./wasmBackend";

describe("Identity on wasm", () => {
  itOnWasm("is this project's kernel", () => {
    expect(tf.getKernel("Identity", "wasm")).toBe(identityConfig);
  });

  itOnWasm("clones without a new buffer, and the clone outlives its source", () => {
    const backend = tf.backend();
    const buffersBefore = backend.numDataIds();
    const source = tf.tensor2d([1.5, -2, 0, 7], [2, 2]);
    const clone = tf.clone(source);
    expect(backend.numDataIds()).toBe(buffersBefore + 1);
    source.dispose();
    expect(Array.from(clone.dataSync())).toEqual([1.5, -2, 0, 7]);
    clone.dispose();
    expect(backend.numDataIds()).toBe(buffersBefore);
  });

  itOnWasm("keeps the engine's bookkeeping exact through a gradient that saves clones", () => {
    const start = tf.memory().numTensors;
    const x = tf.tensor1d([0.5, -1, 2]);
    const loss = (v: tf.Tensor) => tf.sum(tf.mul(tf.fused.matMul({ a: tf.reshape(v, [1, 3]), b: tf.ones([3, 2]) }), 3));
    const grad = tf.grad(loss)(x);
    expect(Array.from(grad.dataSync())).toEqual([6, 6, 6]);
    tf.dispose([x, grad]);
    expect(tf.memory().numTensors).toBe(start);
  });
});
