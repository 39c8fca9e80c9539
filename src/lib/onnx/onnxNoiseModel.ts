/**
 * A NoiseModel for the samplers that runs a network's ONNX graph on ONNX Runtime (CPU) instead of
 * TensorFlow.js: the same eps_theta(x_t, t / T, context) from the same weights, built once from the
 * live model (../onnx/contextUnetGraph.ts, attentionUnetGraph.ts). ONNX Runtime's run is
 * asynchronous, so the model offers predictNoiseAsync, which the samplers await (and so does
 * classifier-free guidance's wrapper, ../guidance/classifierFreeGuidance.ts); its synchronous
 * predictNoise throws (classifier guidance, which needs it, stays on the TensorFlow.js model).
 */
import * as tf from "@tensorflow/tfjs-core";
import type { NoiseModel } from "../diffusion/sampling";
import { AttentionUnet } from "../model/attentionUnet/attentionUnet";
import { ContextUnet } from "../model/contextUnet";
import { CaptionEncoder } from "../text/captionEncoder";
import { TextContextUnet } from "../text/textContextUnet";
import { learnedVarianceNoise, splitLearnedVarianceOutput } from "../model/learnedVarianceOutput";
import { attentionUnetToOnnx } from "./attentionUnetGraph";
import { contextUnetToOnnx } from "./contextUnetGraph";
import { ONNX_INPUT_CONTEXT, ONNX_INPUT_T_FRACTION, ONNX_INPUT_X, ONNX_OUTPUT_NOISE } from "./graphBuilder";
import { type OnnxSessionOptions, type OrtSession, type OrtTensor, createOnnxSession, loadOnnxRuntime } from "./runtime";

/** What a graph takes besides x and t / T: its image shape [H, W, C] and context length (0: none). */
export interface OnnxModelShape {
  imageShape: readonly [number, number, number];
  contextSize: number;
  /** Does the graph give 2C channels, eps then the variance's r (default false: eps only)? */
  learnsVariance?: boolean;
}

/** The networks with an ONNX graph: a ContextUnet (with or without a learned variance), an AttentionUnet, a TextContextUnet (its UNet's graph, its encoder on TensorFlow.js). */
export type OnnxExportable = ContextUnet | AttentionUnet | TextContextUnet;

/** Has this network an ONNX graph (fromNetwork takes it)? */
export function isOnnxExportable(network: object): network is OnnxExportable {
  return network instanceof ContextUnet || network instanceof AttentionUnet || network instanceof TextContextUnet;
}

/** A tensor's values as float32 (an int32 one-hot context is converted). */
async function float32Data(tensor: tf.Tensor): Promise<Float32Array> {
  const values = await tensor.data();
  return values instanceof Float32Array ? values : Float32Array.from(values as Int32Array);
}

export class OnnxNoiseModel implements NoiseModel {
  /** Context values by tensor (contextValues); weak, so a dropped context leaves with its tensor. */
  private readonly contextCache = new WeakMap<tf.Tensor, Float32Array>();

  /**
   * @param contextSize     the context the samplers hand in: the graph's, or a text model's maxTokens.
   * @param learnsVariance  does the graph give 2C channels, eps then r (improved DDPM's learned variance)?
   * @param captionEncoder  a text model's encoder (a copy this model owns), from token ids to the graph's context; else null.
   */
  private constructor(
    private readonly session: OrtSession,
    readonly imageShape: readonly [number, number, number],
    readonly contextSize: number,
    readonly learnsVariance: boolean,
    private readonly captionEncoder: CaptionEncoder | null = null,
  ) {}

  /**
   * The ONNX twin of a ContextUnet (a learned variance too), an AttentionUnet or a TextContextUnet,
   * with the weights it has now (later changes to the model do not reach it). Throws when
   * onnxruntime-node is missing or for a network it cannot export. Call dispose() when done.
   */
  static async fromNetwork(model: OnnxExportable, options: OnnxSessionOptions = {}): Promise<OnnxNoiseModel> {
    loadOnnxRuntime();
    if (model instanceof TextContextUnet) {
      const encoder = new CaptionEncoder(model.encoder.config);
      try {
        encoder.setWeights(await model.encoder.getWeights());
        const unet = await OnnxNoiseModel.fromNetwork(model.unet, options);
        return new OnnxNoiseModel(unet.session, model.imageShape, model.contextSize, unet.learnsVariance, encoder);
      } catch (error) {
        encoder.dispose();
        throw error;
      }
    }
    if (model instanceof ContextUnet) {
      const shape = { imageShape: model.imageShape, contextSize: model.contextSize, learnsVariance: model.learnsVariance };
      return OnnxNoiseModel.fromBytes(await contextUnetToOnnx(model), shape, options);
    }
    if (model instanceof AttentionUnet) return OnnxNoiseModel.fromBytes(await attentionUnetToOnnx(model), { imageShape: model.imageShape, contextSize: 0 }, options);
    throw new Error(`OnnxNoiseModel: exports ContextUnet, AttentionUnet and TextContextUnet; got ${(model as object).constructor.name}; sample it with the model itself.`);
  }

  /** A model from an ONNX graph's bytes with this library's inputs and output (x, t_fraction, context -> noise). */
  static async fromBytes(bytes: Uint8Array, shape: OnnxModelShape, options: OnnxSessionOptions = {}): Promise<OnnxNoiseModel> {
    const session = await createOnnxSession(bytes, options);
    return new OnnxNoiseModel(session, shape.imageShape, shape.contextSize, shape.learnsVariance ?? false);
  }

  /** Always throws: ONNX Runtime runs asynchronously (use predictNoiseAsync, as the samplers do). */
  predictNoise(): tf.Tensor4D {
    throw new Error(
      "OnnxNoiseModel: ONNX Runtime runs asynchronously; call predictNoiseAsync (sampleDdpm and sampleDdim do). " +
        "Classifier guidance calls predictNoise: give it the TensorFlow.js model.",
    );
  }

  /**
   * eps in x_t, from ONNX Runtime.
   * @param x          [N, H, W, C] (NHWC) noisy images; read back to the CPU (an await).
   * @param tFraction  t / T, one for the batch.
   * @param context    [N, contextSize] or null (zeros: no context; a text model's empty caption);
   *                   ignored when contextSize is 0.
   * @returns          [N, H, W, C] predicted noise, a new tensor the caller owns.
   */
  async predictNoiseAsync(x: tf.Tensor4D, tFraction: number, context: tf.Tensor2D | null): Promise<tf.Tensor4D> {
    const output = await this.run(x, tFraction, context);
    if (!this.learnsVariance) return output;
    try {
      return learnedVarianceNoise(output, this.imageShape[2]);
    } finally {
      output.dispose();
    }
  }

  /** eps and v = (r + 1) / 2 for a graph with a learned variance (Nichol & Dhariwal 2021, eq. 15); inputs as predictNoiseAsync. */
  async predictNoiseAndVarianceAsync(x: tf.Tensor4D, tFraction: number, context: tf.Tensor2D | null): Promise<{ noise: tf.Tensor4D; v: tf.Tensor4D }> {
    if (!this.learnsVariance) throw new Error("OnnxNoiseModel: this graph predicts eps only; its variance is fixed (use predictNoiseAsync).");
    const output = await this.run(x, tFraction, context);
    try {
      return splitLearnedVarianceOutput(output, this.imageShape[2]);
    } finally {
      output.dispose();
    }
  }

  /** The graph's whole output for x_t: [N, H, W, C], or [N, H, W, 2C] with a learned variance; the caller owns it. */
  private async run(x: tf.Tensor4D, tFraction: number, context: tf.Tensor2D | null): Promise<tf.Tensor4D> {
    const [n, h, w, c] = x.shape;
    const [eh, ew, ec] = this.imageShape;
    if (x.rank !== 4 || h !== eh || w !== ew || c !== ec) throw new Error(`OnnxNoiseModel: x has shape [${x.shape}], expected [N, ${eh}, ${ew}, ${ec}].`);
    if (!Number.isFinite(tFraction)) throw new Error(`OnnxNoiseModel: t/T must be finite, got ${tFraction}.`);
    const ort = loadOnnxRuntime();
    const feeds: Record<string, OrtTensor> = {
      [ONNX_INPUT_X]: new ort.Tensor("float32", await float32Data(x), x.shape),
      [ONNX_INPUT_T_FRACTION]: new ort.Tensor("float32", new Float32Array(n).fill(tFraction), [n]),
    };
    if (this.contextSize > 0) {
      if (context !== null && (context.rank !== 2 || context.shape[0] !== n || context.shape[1] !== this.contextSize)) {
        throw new Error(`OnnxNoiseModel: context has shape [${context.shape}], expected [${n}, ${this.contextSize}] or null.`);
      }
      const values = context ? await this.contextValues(context) : await this.nullContextValues(n);
      feeds[ONNX_INPUT_CONTEXT] = new ort.Tensor("float32", values, [n, values.length / n]);
    }
    const outputs = await this.session.run(feeds);
    const output = outputs[ONNX_OUTPUT_NOISE];
    return tf.tensor4d(output.data as Float32Array, [n, h, w, this.learnsVariance ? 2 * c : c]);
  }

  /**
   * A context's values as float32, read back once per tensor: a sampler hands the same (immutable)
   * context at every step, so only the first step pays the read.
   */
  private async contextValues(context: tf.Tensor2D): Promise<Float32Array> {
    const known = this.contextCache.get(context);
    if (known) return known;
    const values = await this.graphContext(context);
    this.contextCache.set(context, values);
    return values;
  }

  /** The graph's context for a null one: zeros, or a text model's empty caption (all pads) encoded. */
  private async nullContextValues(n: number): Promise<Float32Array> {
    if (!this.captionEncoder) return new Float32Array(n * this.contextSize);
    const pads = tf.zeros([n, this.contextSize]) as tf.Tensor2D;
    try {
      return await this.graphContext(pads);
    } finally {
      pads.dispose();
    }
  }

  /** The values the graph takes as its context: the context itself, or a text model's token ids through its encoder. */
  private async graphContext(context: tf.Tensor2D): Promise<Float32Array> {
    if (!this.captionEncoder) return float32Data(context);
    const encoded = this.captionEncoder.encode(context);
    try {
      return await float32Data(encoded);
    } finally {
      encoded.dispose();
    }
  }

  /** Frees ONNX Runtime's session (its weights and buffers), and a text model's encoder copy. */
  dispose(): Promise<void> {
    this.captionEncoder?.dispose();
    return this.session.release();
  }
}
