/**
 * Shared by the wasm tests: start the wasm backend the way the library does (training kernels,
 * threads when Node allows), or say why it cannot start. Tests then skip with that reason printed,
 * except under CI, where a wasm backend that cannot start is a failure.
 */
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { it } from "vitest";
// tfjs-core alone registers no gradients; these tests take tf.grad of convolutions and pools.
import "@tensorflow/tfjs-core/dist/register_all_gradients";
import { type WasmStart, startWasmBackend } from "../../src/lib/wasm";

export interface WasmForTests {
  /** How wasm started, or null when it could not. */
  start: WasmStart | null;
  /** Why wasm could not start, or null when it did. */
  unavailable: string | null;
}

async function startWasmForTests(): Promise<WasmForTests> {
  try {
    const start = await startWasmBackend();
    console.info(`wasm tests run on tfjs-backend-wasm with ${start.note}`);
    return { start, unavailable: null };
  } catch (error) {
    const reason = (error as Error).message;
    if (process.env.CI) throw new Error(`The wasm backend must start in CI, but: ${reason}`);
    console.warn(`Skipping the wasm tests: ${reason}`);
    return { start: null, unavailable: reason };
  }
}

let started: Promise<WasmForTests> | null = null;

/** Starts wasm once per test file (each file runs in its own process). */
export function wasmForTests(): Promise<WasmForTests> {
  started ??= startWasmForTests();
  return started;
}

/**
 * A test that needs the wasm backend: it starts wasm (and leaves it active) first, and is
 * skipped, with the reason, when wasm cannot start outside CI.
 */
export function itOnWasm(name: string, body: () => Promise<void> | void, timeout?: number): void {
  it(
    name,
    async (context) => {
      const wasm = await wasmForTests();
      if (wasm.unavailable !== null) context.skip(`wasm cannot start: ${wasm.unavailable}`);
      await tf.setBackend("wasm");
      await body();
    },
    timeout,
  );
}

/** Runs f on a backend and reads its tensors back; everything f makes is disposed. */
export async function readOn(backend: string, f: () => tf.Tensor | tf.Tensor[]): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const result = tf.tidy(f);
  const tensors = Array.isArray(result) ? result : [result];
  const values = tensors.map((t) => Float32Array.from(t.dataSync()));
  tf.dispose(tensors);
  return values;
}


export function maxAbs(values: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < values.length; i++) m = Math.max(m, Math.abs(values[i]));
  return m;
}

/** Reproducible uniform values in [-1, 1) (a 31-bit linear congruential generator). */
export function uniform(count: number, seed: number): Float32Array {
  let state = seed >>> 0;
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    state = (Math.imul(state, 1103515245) + 12345) & 0x7fffffff;
    out[i] = (state / 0x80000000) * 2 - 1;
  }
  return out;
}

export const product = (shape: number[]): number => shape.reduce((a, b) => a * b, 1);

/** sum_i weights[i] * values[i] in float64. */
export function dot(values: ArrayLike<number>, weights: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i] * weights[i];
  return sum;
}

/**
 * Central differences (L(v + h e_i) - L(v - h e_i)) / 2h for every element of v. For a loss
 * linear in v (a convolution in either argument, dotted with fixed weights) the formula has no
 * truncation error for any h; only the forward's float32 rounding is left.
 */
export function centralDifferences(loss: (v: Float32Array) => number, at: Float32Array, h: number): Float64Array {
  const grad = new Float64Array(at.length);
  const probe = Float32Array.from(at);
  for (let i = 0; i < at.length; i++) {
    probe[i] = at[i] + h;
    const up = loss(probe);
    probe[i] = at[i] - h;
    const down = loss(probe);
    probe[i] = at[i];
    grad[i] = (up - down) / (2 * h);
  }
  return grad;
}

export { relativeError } from "../helpers/relativeError";
