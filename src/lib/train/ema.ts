/**
 * An exponential moving average of the weights (Polyak averaging, as diffusers' EMAModel):
 *   shadow <- d_n * shadow + (1 - d_n) * theta, after optimizer step n = 0, 1, ...,
 *   d_n = min(decay, (1 + n) / (10 + n))   (diffusers' EMAModel warm-up),
 * so the random initial weights are forgotten within the first few hundred steps instead of
 * lingering (without warm-up, 0.9999^28608 = 5.7 % of them would survive the course's run).
 * Sampling from the shadow weights usually gives cleaner images than the raw last step.
 */
import * as tf from "@tensorflow/tfjs-core";
import type { WeightMap } from "../model/parameters";

export class WeightAverage {
  private readonly shadow = new Map<string, tf.Variable>();

  constructor(
    private readonly parameters: Map<string, tf.Variable>,
    readonly decay: number,
  ) {
    if (!(decay > 0 && decay < 1)) throw new Error(`EMA decay must be in (0, 1), got ${decay}.`);
    for (const [key, variable] of parameters) {
      const copy = variable.clone();
      this.shadow.set(key, tf.variable(copy, false));
      copy.dispose(); // tf.variable takes its own reference
    }
  }

  /** The decay used after optimizer step `step` (0-based). */
  decayAt(step: number): number {
    return Math.min(this.decay, (1 + step) / (10 + step));
  }

  /** Folds the current weights in after optimizer step `step` (0-based; resumed runs pass on). */
  update(step: number): void {
    const d = this.decayAt(step);
    tf.tidy(() => {
      for (const [key, variable] of this.parameters) {
        const s = this.shadow.get(key)!;
        s.assign(tf.add(tf.mul(s, d), tf.mul(variable, 1 - d)));
      }
    });
  }

  async read(): Promise<WeightMap> {
    const out: WeightMap = {};
    for (const [key, s] of this.shadow) out[key] = { shape: s.shape.slice(), data: (await s.data()) as Float32Array };
    return out;
  }

  /**
   * Runs `use` with the model's weights replaced by the average (e.g. to draw samples from it),
   * then puts the trained weights back, also when `use` throws.
   */
  async withAveragedWeights<T>(use: () => Promise<T>): Promise<T> {
    const trained = new Map(Array.from(this.parameters, ([key, variable]) => [key, variable.clone()]));
    try {
      for (const [key, variable] of this.parameters) variable.assign(this.shadow.get(key)!);
      return await use();
    } finally {
      for (const [key, variable] of this.parameters) variable.assign(trained.get(key)!);
      tf.dispose(Array.from(trained.values()));
    }
  }

  load(weights: WeightMap): void {
    for (const [key, s] of this.shadow) {
      const w = weights[key];
      if (!w || w.data.length !== s.size) throw new Error(`EMA weight "${key}" is missing or mis-sized in the checkpoint.`);
      const value = tf.tensor(w.data, s.shape);
      s.assign(value);
      value.dispose();
    }
  }

  dispose(): void {
    for (const s of this.shadow.values()) s.dispose();
  }
}
