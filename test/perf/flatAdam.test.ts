/**
 * The Adam update over one flat vector (src/lib/train/adam.ts) is bit for bit the per-parameter
 * update written out below (PyTorch's formula), over several steps, on the cpu backend and on
 * native TensorFlow when it loads; and its checkpoint state round-trips per parameter.
 */
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { describe, expect, it } from "vitest";
import { Adam } from "../../src/lib/train/adam";

/** The update one parameter at a time, as the formula reads (the reference). */
function perParameterStep(
  params: tf.Variable[],
  moments: Array<{ m: tf.Variable; v: tf.Variable }>,
  grads: tf.Tensor[],
  lr: number,
  k: number,
): void {
  const [beta1, beta2, epsilon] = [0.9, 0.999, 1e-8];
  const stepSize = lr / (1 - beta1 ** k);
  const sqrtBiasCorrection2 = Math.sqrt(1 - beta2 ** k);
  tf.tidy(() => {
    params.forEach((p, i) => {
      const { m, v } = moments[i];
      const g = grads[i];
      m.assign(tf.add(tf.mul(m, beta1), tf.mul(g, 1 - beta1)));
      v.assign(tf.add(tf.mul(v, beta2), tf.mul(tf.square(g), 1 - beta2)));
      const denominator = tf.add(tf.div(tf.sqrt(v), sqrtBiasCorrection2), epsilon);
      p.assign(tf.sub(p, tf.mul(tf.div(m, denominator), stepSize)));
    });
  });
}

function backends(): string[] {
  const names = ["cpu"];
  try {
    require("@tensorflow/tfjs-node");
    if (tf.findBackend("tensorflow")) names.push("tensorflow");
  } catch {
    // native TensorFlow is optional
  }
  return names;
}

describe.each(backends())("flat Adam on %s", (backend) => {
  it("equals the per-parameter update bit for bit, and its state round-trips", async () => {
    await tf.setBackend(backend);
    const shapes = [[3, 3, 4, 8], [8], [5, 7], [1], [2, 2, 2, 3]];
    const make = (seed: number) => shapes.map((s, i) => tf.variable(tf.randomNormal(s, 0, 1, "float32", seed + i)));
    const ours = make(1);
    const reference = make(1);
    const moments = shapes.map((s) => ({ m: tf.variable(tf.zeros(s)), v: tf.variable(tf.zeros(s)) }));
    const adam = new Adam(new Map(ours.map((v, i) => [`p${i}`, v])));
    for (let k = 1; k <= 4; k++) {
      const grads = shapes.map((s, i) => tf.randomNormal(s, 0, k, "float32", 100 * k + i));
      adam.apply(Object.fromEntries(ours.map((v, i) => [v.name, grads[i]])), 1e-3 * k);
      perParameterStep(reference, moments, grads, 1e-3 * k, k);
      tf.dispose(grads);
    }
    const bytes = (v: tf.Tensor) => {
      const a = v.dataSync() as Float32Array;
      return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
    };
    ours.forEach((v, i) => expect(bytes(v)).toEqual(bytes(reference[i])));
    const state = await adam.readState();
    expect(Object.keys(state).sort()).toEqual(shapes.flatMap((_, i) => [`m/p${i}`, `v/p${i}`]).sort());
    moments.forEach(({ m, v }, i) => {
      expect(Array.from(state[`m/p${i}`].data)).toEqual(Array.from(m.dataSync()));
      expect(Array.from(state[`v/p${i}`].data)).toEqual(Array.from(v.dataSync()));
      expect(state[`m/p${i}`].shape).toEqual(shapes[i]);
    });
    const restored = new Adam(new Map(reference.map((v, i) => [`p${i}`, v])));
    restored.loadState(state, adam.step);
    expect(await restored.readState()).toEqual(state);
    expect(() => restored.loadState({ ...state, "m/p2": { shape: [1], data: new Float32Array(1) } }, 4)).toThrow(/m\/p2/);
    const before = tf.memory().numTensors;
    const grads = shapes.map((s) => tf.ones(s));
    adam.apply(Object.fromEntries(ours.map((v, i) => [v.name, grads[i]])), 1e-3);
    tf.dispose(grads);
    expect(tf.memory().numTensors).toBe(before);
    expect(() => adam.apply({}, 1e-3)).toThrow(/no gradient for "p0"/);
    adam.dispose();
    restored.dispose();
    tf.dispose([...ours, ...reference, ...moments.flatMap(({ m, v }) => [m, v])]);
  });
});
