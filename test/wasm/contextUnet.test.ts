/**
 * The whole ContextUnet on wasm against the cpu backend on the same weights and inputs: the
 * forward in both modes, the loss, the gradient of every trainable variable and the BatchNorm
 * running statistics a training-mode forward leaves, to 1e-4 relative; and a training step on
 * wasm (forward, variableGrads, Adam) that leaks no tensors. Batch 2: the cpu backend is slow.
 */
import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect } from "vitest";
import { ContextUnet } from "../../src/lib/model/contextUnet";
import { type RunningStatUpdate, commitStatUpdates } from "../../src/lib/model/layers";
import type { WeightMap } from "../../src/lib/model/parameters";
import { maxAbs, readOn, relativeError, itOnWasm, uniform } from "./wasmBackend";

const BATCH = 2;
const MODEL_SEED = 1;

/** Inputs as plain arrays, so each backend builds its own tensors from the same numbers. */
const x = uniform(BATCH * 16 * 16 * 3, 61);
const tFraction = uniform(BATCH, 62).map(Math.abs);
const context = uniform(BATCH * 5, 63).map((u) => (u > 0 ? 1 : 0));
const noise = uniform(BATCH * 16 * 16 * 3, 64);

type Results = Map<string, Float32Array>;

/**
 * On one backend: the inference forward, then the training forward's loss and gradients, and
 * the running statistics it updated. `nudge` scales x by 1 + nudge * sin(i) (see the test).
 */
async function trainingResults(backend: string, weights: WeightMap, nudge = 0): Promise<Results> {
  await tf.setBackend(backend);
  const model = new ContextUnet({}, MODEL_SEED);
  model.setWeights(weights);
  const names: string[] = [];
  const values = await readOn(backend, () => {
    const xt = tf.tensor4d(x.map((v, i) => v * (1 + nudge * Math.sin(i))), [BATCH, 16, 16, 3]);
    const t = tf.tensor1d(tFraction);
    const c = tf.tensor2d(context, [BATCH, 5]);
    const inference = model.predictNoise(xt, t, c);
    const target = tf.tensor4d(noise, xt.shape);
    let statUpdates: RunningStatUpdate[] = [];
    const loss = () => {
      const out = model.forwardTraining(xt, t, c);
      statUpdates = out.statUpdates;
      return tf.losses.meanSquaredError(target, out.predNoise) as tf.Scalar;
    };
    const { value, grads } = tf.variableGrads(loss);
    commitStatUpdates(statUpdates);
    names.push("forward (inference)", "loss");
    const out: tf.Tensor[] = [inference, value];
    for (const key of model.parameters.keys()) {
      const variable = model.parameters.get(key);
      names.push(key);
      // Trainable: its gradient. BatchNorm running statistics: the values the forward left.
      out.push(variable.trainable ? grads[variable.name] : tf.clone(variable));
    }
    return out;
  });
  model.dispose();
  return new Map(names.map((name, i) => [name, values[i]]));
}

describe("ContextUnet on wasm vs cpu", () => {
  let weights: WeightMap;

  beforeAll(async () => {
    await tf.setBackend("cpu");
    const reference = new ContextUnet({}, MODEL_SEED);
    weights = await reference.getWeights();
    reference.dispose();
  });

  itOnWasm("agrees with cpu to 1e-4: forward, loss, every gradient, running statistics", async () => {
    const onWasm = await trainingResults("wasm", weights);
    // Conv biases followed by BatchNorm have gradient exactly 0 (training-mode BatchNorm subtracts
    // the batch mean, bias included): both backends return float32 rounding noise for them, so
    // they are checked to be ~0 instead of compared.
    const zeroGradient = [...onWasm.keys()].filter((name) => /\.conv[12]\.0\.bias$/.test(name));
    expect(zeroGradient).toHaveLength(18);
    const compared = [...onWasm.keys()].filter((name) => !zeroGradient.includes(name));
    expect(compared.length).toBeGreaterThan(100);

    // ReLU and max-pool make the network piecewise smooth. An input within float32 rounding of a
    // kink can fall on either side on two backends, and the gradient then differs by O(1) in a
    // few entries (seen with another seed: one GroupNorm output at 7e-7 before up0's ReLU moved
    // up0.0.weight's gradient 7.5%, exactly as much as nudging x by 1e-6 on wasm alone did).
    // So first show this point is well away from every kink: nudging x by 1e-6 (more than the
    // backends' rounding differences, ~1e-7 per op) moves wasm's results by less than the 1e-4
    // the comparison allows (smooth sensitivity measured up to 2e-5; a flipped kink is 1e-2 and up).
    const nudged = await trainingResults("wasm", weights, 1e-6);
    for (const name of compared) {
      const moved = relativeError(nudged.get(name) as Float32Array, onWasm.get(name) as Float32Array);
      expect(moved, `${name} moved when x was nudged by 1e-6`).toBeLessThan(1e-4);
    }

    const onCpu = await trainingResults("cpu", weights);
    const isGradient = (name: string) => name !== "loss" && !name.startsWith("forward") && !name.includes("running_");
    const gradients = compared.filter(isGradient);
    const largestGradient = Math.max(...gradients.map((name) => maxAbs(onCpu.get(name) as Float32Array)));
    for (const name of zeroGradient) {
      expect(maxAbs(onCpu.get(name) as Float32Array), `${name} on cpu`).toBeLessThan(1e-6 * largestGradient);
      expect(maxAbs(onWasm.get(name) as Float32Array), `${name} on wasm`).toBeLessThan(1e-6 * largestGradient);
    }
    for (const name of compared) {
      expect(relativeError(onWasm.get(name) as Float32Array, onCpu.get(name) as Float32Array), name).toBeLessThan(1e-4);
    }
  }, 900_000);

  itOnWasm("trains on wasm without leaking tensors (forward, variableGrads, Adam)", async () => {
    await tf.setBackend("wasm");
    const model = new ContextUnet({}, MODEL_SEED);
    const optimizer: tf.Optimizer = tf.train.adam(1e-3);
    const xt = tf.tensor4d(x, [BATCH, 16, 16, 3]);
    const t = tf.tensor1d(tFraction);
    const c = tf.tensor2d(context, [BATCH, 5]);
    const target = tf.tensor4d(noise, [BATCH, 16, 16, 3]);
    const losses: number[] = [];
    const step = () => {
      let statUpdates: RunningStatUpdate[] = [];
      const { value, grads } = tf.variableGrads(() => {
        const out = model.forwardTraining(xt, t, c);
        statUpdates = out.statUpdates;
        return tf.losses.meanSquaredError(target, out.predNoise) as tf.Scalar;
      }, model.trainableVariables());
      commitStatUpdates(statUpdates);
      optimizer.applyGradients(grads);
      losses.push(value.dataSync()[0]);
      tf.dispose([value, ...Object.values(grads)]);
    };
    step(); // warm-up: Adam creates its two moment slots per variable on the first step
    const start = tf.memory();
    for (let i = 0; i < 3; i++) {
      step();
      expect(tf.memory().numTensors, `tensors after step ${i + 2}`).toBe(start.numTensors);
      expect(tf.memory().numBytes, `bytes after step ${i + 2}`).toBe(start.numBytes);
    }
    // The same batch four times: Adam must bring its loss down.
    expect(losses[3]).toBeLessThan(losses[0]);
    optimizer.dispose();
    tf.dispose([xt, t, c, target]);
    model.dispose();
  }, 300_000);
});
