/**
 * Adam (Kingma & Ba 2015, Algorithm 1) exactly as PyTorch's torch.optim.Adam computes it, with
 * its state in named variables so a checkpoint can save it and training resume bit for bit:
 *   m_k = beta1 m_{k-1} + (1 - beta1) g          v_k = beta2 v_{k-1} + (1 - beta2) g^2
 *   theta -= lr / (1 - beta1^k) * m_k / (sqrt(v_k) / sqrt(1 - beta2^k) + eps)
 */
import * as tf from "@tensorflow/tfjs-core";
import type { WeightMap } from "../model/parameters";

export interface AdamConfig {
  beta1: number;
  beta2: number;
  /** PyTorch's default 1e-8 (TensorFlow.js's own Adam uses 1e-7). */
  epsilon: number;
}

export const ADAM_DEFAULTS: Readonly<AdamConfig> = Object.freeze({ beta1: 0.9, beta2: 0.999, epsilon: 1e-8 });

export class Adam {
  readonly config: AdamConfig;
  /** Steps taken (k in the formulas). */
  step = 0;
  private readonly keys: string[];
  private readonly variables: tf.Variable[];
  private readonly sizes: number[];
  /**
   * m and v of every parameter in one flat vector each (parameters in `keys` order): the
   * update is then 13 elementwise kernels over all 1.5 M values instead of 13 per parameter
   * (~1,400 small kernels a step). Each value goes through the same float32 operations in the
   * same order as a per-parameter update, so the result is bit-identical.
   */
  private readonly firstMoment: tf.Variable;
  private readonly secondMoment: tf.Variable;

  /** `parameters`: key -> trainable variable (the keys name the state in checkpoints). */
  constructor(
    private readonly parameters: Map<string, tf.Variable>,
    config: Partial<AdamConfig> = {},
  ) {
    this.config = { ...ADAM_DEFAULTS, ...config };
    this.keys = [...parameters.keys()];
    this.variables = this.keys.map((key) => parameters.get(key)!);
    this.sizes = this.variables.map((v) => v.size);
    const total = this.sizes.reduce((a, b) => a + b, 0);
    const zeros = tf.zeros([total]);
    this.firstMoment = tf.variable(zeros, false);
    this.secondMoment = tf.variable(zeros, false);
    zeros.dispose(); // tf.variable takes its own reference
  }

  /** Applies one update with learning rate `lr`; `grads` maps variable names to gradients. */
  apply(grads: tf.NamedTensorMap, lr: number): void {
    const missing = this.keys.find((key) => !grads[this.parameters.get(key)!.name]);
    if (missing !== undefined) throw new Error(`Adam: no gradient for "${missing}"; it does not reach the loss.`);
    this.step += 1;
    const { beta1, beta2, epsilon } = this.config;
    const stepSize = lr / (1 - beta1 ** this.step);
    const sqrtBiasCorrection2 = Math.sqrt(1 - beta2 ** this.step);
    tf.tidy(() => {
      const flat = (tensors: tf.Tensor[]) => tf.concat(tensors.map((t) => tf.reshape(t, [-1])));
      const g = flat(this.variables.map((variable) => grads[variable.name]));
      const m = this.firstMoment;
      const v = this.secondMoment;
      m.assign(tf.add(tf.mul(m, beta1), tf.mul(g, 1 - beta1)));
      v.assign(tf.add(tf.mul(v, beta2), tf.mul(tf.square(g), 1 - beta2)));
      const denominator = tf.add(tf.div(tf.sqrt(v), sqrtBiasCorrection2), epsilon);
      const updated = tf.sub(flat(this.variables), tf.mul(tf.div(m, denominator), stepSize));
      tf.split(updated, this.sizes).forEach((part, i) => this.variables[i].assign(tf.reshape(part, this.variables[i].shape)));
    });
  }

  /** The state as plain arrays: "m/<key>", "v/<key>" (and the step count, separately). */
  async readState(): Promise<WeightMap> {
    const state: WeightMap = {};
    for (const [prefix, moments] of [["m", this.firstMoment], ["v", this.secondMoment]] as const) {
      const values = (await moments.data()) as Float32Array;
      let offset = 0;
      this.keys.forEach((key, i) => {
        state[`${prefix}/${key}`] = { shape: this.variables[i].shape.slice(), data: values.slice(offset, offset + this.sizes[i]) };
        offset += this.sizes[i];
      });
    }
    return state;
  }

  /** Restores state written by readState (and the step count it was taken at). */
  loadState(state: WeightMap, step: number): void {
    for (const [prefix, moments] of [["m", this.firstMoment], ["v", this.secondMoment]] as const) {
      const values = new Float32Array(moments.size);
      let offset = 0;
      this.keys.forEach((key, i) => {
        const saved = state[`${prefix}/${key}`];
        if (!saved || saved.data.length !== this.sizes[i]) {
          throw new Error(`Optimizer state "${prefix}/${key}" is missing or has the wrong size; the checkpoint does not fit this model.`);
        }
        values.set(saved.data, offset);
        offset += this.sizes[i];
      });
      const value = tf.tensor1d(values);
      moments.assign(value);
      value.dispose();
    }
    this.step = step;
  }

  dispose(): void {
    this.firstMoment.dispose();
    this.secondMoment.dispose();
  }
}
