/**
 * What every network here does with its weights, written once: a ParameterStore under PyTorch-style
 * keys, counted, listed for the optimizer, read, loaded and freed. ContextUnet, AttentionUnet, the
 * two sprite classifiers, the ARDM transformer, the caption encoder and the text-conditioned UNet
 * extend it and add their forward passes.
 */
import type * as tf from "@tensorflow/tfjs-core";
import { ParameterStore, type WeightMap } from "./parameters";

export abstract class ParameterizedNetwork {
  /** Every weight and state tensor (BatchNorm's running statistics too) by its PyTorch-style key. */
  readonly parameters: ParameterStore;

  /**
   * `name` labels the store's variables and its error messages; a network made of others passes
   * `parameters`, a composite view of theirs (ParameterStore.composite).
   */
  protected constructor(name: string, parameters: ParameterStore = new ParameterStore(name)) {
    this.parameters = parameters;
  }

  /** Trainable scalars (PyTorch's sum of numel over parameters()). */
  get parameterCount(): number {
    return this.parameters.trainableCount();
  }

  /** The trainable parameters by their PyTorch-style key, as Adam's constructor takes them. */
  trainableParameters(): Map<string, tf.Variable> {
    return this.parameters.trainableParameters();
  }

  trainableVariables(): tf.Variable[] {
    return this.parameters.trainableVariables();
  }

  /** All weights (and state such as BatchNorm's statistics) as plain arrays, by key. */
  getWeights(): Promise<WeightMap> {
    return this.parameters.read();
  }

  /** Loads weights by key; throws listing every missing, unexpected or mis-shaped one. */
  setWeights(weights: WeightMap): void {
    this.parameters.assign(weights);
  }

  /** Frees every variable of the network; it cannot be used afterwards. */
  dispose(): void {
    this.parameters.dispose();
  }
}
