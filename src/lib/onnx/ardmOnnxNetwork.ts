/**
 * An ArdmNetwork (../ardm/network.ts) that runs the ARDM transformer's or conv UNet's ONNX graph on
 * ONNX Runtime (CPU) instead of TensorFlow.js: the same logits f(x ⊙ m, m) from the same weights,
 * built once from the live network (./ardmTransformerGraph.ts, ./ardmConvUnetGraph.ts). ONNX
 * Runtime's run is asynchronous, so it offers logitsAsync, which sampleArdm, orderNll and
 * estimateArdmNll await; its synchronous logits throws (training differentiates the TensorFlow.js
 * network, never this one).
 */
import * as tf from "@tensorflow/tfjs-core";
import { ArdmConvUnet } from "../ardm/convNetwork";
import type { ArdmNetwork } from "../ardm/network";
import { ArdmTransformer } from "../ardm/transformer";
import { ONNX_INPUT_MASK, ONNX_OUTPUT_LOGITS } from "./ardmGraphInputs";
import { ardmConvUnetToOnnx } from "./ardmConvUnetGraph";
import { ardmTransformerToOnnx } from "./ardmTransformerGraph";
import { ONNX_INPUT_X } from "./graphBuilder";
import { type OnnxSessionOptions, type OrtSession, createOnnxSession, loadOnnxRuntime } from "./runtime";

/** A tensor's values as float32 (int32 values are exact as floats up to 2^24). */
async function float32Data(tensor: tf.Tensor): Promise<Float32Array> {
  const values = await tensor.data();
  return values instanceof Float32Array ? values : Float32Array.from(values as Int32Array);
}

/** Has this ARDM network an ONNX graph (the transformer's or the conv UNet's)? */
export function hasArdmOnnxGraph(network: object): network is ArdmTransformer | ArdmConvUnet {
  return network instanceof ArdmTransformer || network instanceof ArdmConvUnet;
}

export class OnnxArdmNetwork implements ArdmNetwork {
  private constructor(
    private readonly session: OrtSession,
    /** D variables. */
    readonly dimensions: number,
    /** K values per variable. */
    readonly categories: number,
  ) {}

  /**
   * The ONNX twin of an ArdmTransformer or ArdmConvUnet (a checkpoint's network), with the weights
   * it has now (later changes to the network do not reach it). Throws when onnxruntime-node is
   * missing or for another network. Call dispose() when done.
   */
  static async fromNetwork(network: ArdmNetwork, options: OnnxSessionOptions = {}): Promise<OnnxArdmNetwork> {
    loadOnnxRuntime();
    let bytes: Uint8Array;
    if (network instanceof ArdmTransformer) bytes = await ardmTransformerToOnnx(network);
    else if (network instanceof ArdmConvUnet) bytes = await ardmConvUnetToOnnx(network);
    else {
      const name = (network as object).constructor.name;
      throw new Error(`OnnxArdmNetwork: exports ArdmTransformer and ArdmConvUnet; got ${name}, whose ONNX graph is not written; run it with TensorFlow.js (--engine tfjs).`);
    }
    return new OnnxArdmNetwork(await createOnnxSession(bytes, options), network.dimensions, network.categories);
  }

  /** Always throws: ONNX Runtime runs asynchronously (use logitsAsync, as sampleArdm does). */
  logits(): tf.Tensor3D {
    throw new Error(
      "OnnxArdmNetwork: ONNX Runtime runs asynchronously; call logitsAsync (sampleArdm, orderNll and estimateArdmNll do). " +
        "Training and ardmTrainingLoss call logits: give them the TensorFlow.js network.",
    );
  }

  /**
   * Logits of every variable given the masked data, from ONNX Runtime.
   * @param x     [N, D] int32 (or float32) values in 0..K-1; values under mask 0 are never read.
   *              Read back to the CPU (an await). Given values are not range-checked here: one
   *              outside 0..K-1 makes ONNX Runtime's Gather fail.
   * @param mask  [N, D] float32, 1 = given, 0 = to predict (above 0.5 counts as given).
   * @returns     [N, D, K] float32 logits, a new tensor the caller owns.
   */
  async logitsAsync(x: tf.Tensor2D, mask: tf.Tensor2D): Promise<tf.Tensor3D> {
    const D = this.dimensions;
    if (x.rank !== 2 || x.shape[1] !== D || mask.shape.join(",") !== x.shape.join(",")) {
      throw new Error(`OnnxArdmNetwork.logitsAsync: x has shape [${x.shape}] and mask [${mask.shape}], but both must be [N, ${D}] (N data of D = ${D} variables).`);
    }
    const n = x.shape[0];
    const ort = loadOnnxRuntime();
    const outputs = await this.session.run({
      [ONNX_INPUT_X]: new ort.Tensor("float32", await float32Data(x), [n, D]),
      [ONNX_INPUT_MASK]: new ort.Tensor("float32", await float32Data(mask), [n, D]),
    });
    return tf.tensor3d(outputs[ONNX_OUTPUT_LOGITS].data as Float32Array, [n, D, this.categories]);
  }

  /** Frees ONNX Runtime's session (its weights and buffers). */
  dispose(): Promise<void> {
    return this.session.release();
  }
}
