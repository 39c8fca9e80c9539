/**
 * Which engine runs a network's forward pass while sampling. ONNX Runtime runs the project's
 * networks up to about 2 times faster than TensorFlow.js on this CPU (bench/results/latest.md: a
 * DDPM step of 32 sprites 38 against 79 ms, DDIM-25 0.94 against 1.68 s, an ARDM transformer
 * decoding step 126 against 227 ms; the ARDM conv UNet's 70 against 73), so "auto" takes it whenever it can, and TensorFlow.js
 * otherwise, saying why. Training always runs on TensorFlow.js (ONNX Runtime has no training in
 * Node); samples from the two engines agree to float32 rounding (their eps to 1e-4 in the tests, about 1e-6 measured).
 *
 *   "auto"  ONNX Runtime when onnxruntime-node loads, the network has an ONNX graph and the caller
 *           needs no synchronous forward pass (classifier guidance); else TensorFlow.js.
 *   "onnx"  ONNX Runtime, or an error saying why not.
 *   "tfjs"  the network itself, on the TensorFlow.js backend.
 */
import type { ArdmNetwork } from "../ardm/network";
import type { NoiseModel } from "../diffusion/sampling";
import { OnnxArdmNetwork, hasArdmOnnxGraph } from "./ardmOnnxNetwork";
import { type OnnxExportable, OnnxNoiseModel, isOnnxExportable } from "./onnxNoiseModel";
import { type OnnxSessionOptions, tryLoadOnnxRuntime } from "./runtime";

export const ENGINE_REQUESTS = ["auto", "onnx", "tfjs"] as const;

/** Why classifier guidance samples on TensorFlow.js (EngineOptions.needsTensorFlow). */
export const CLASSIFIER_GUIDANCE_NEEDS_TENSORFLOW = "classifier guidance takes the noisy classifier's gradient on TensorFlow.js at every step";
export type EngineRequest = (typeof ENGINE_REQUESTS)[number];

/** The network to sample with, the engine it runs on and why; dispose() frees an ONNX session (never the network). */
export interface SamplingEngine<M> {
  model: M;
  engine: "onnx" | "tfjs";
  /** One line for a log: the engine, and why it was chosen. */
  reason: string;
  dispose(): Promise<void>;
}

export interface EngineOptions extends OnnxSessionOptions {
  /** What the network is, for messages (a checkpoint folder, "the model"). */
  what?: string;
  /** Why this run needs TensorFlow.js's synchronous forward (e.g. classifier guidance), or undefined when it does not. */
  needsTensorFlow?: string;
}

/** Why `network` cannot run on ONNX Runtime here (no runtime, no graph, a synchronous caller), or null when it can. */
function onnxProblem(network: object, hasGraph: boolean, exported: string, options: EngineOptions): string | null {
  const runtime = tryLoadOnnxRuntime();
  if ("error" in runtime) return runtime.error;
  if (!hasGraph) return `${options.what ?? "the network"} is a ${network.constructor.name}, which has no ONNX graph (${exported} have)`;
  return options.needsTensorFlow ?? null;
}

/** The choice every network shares: the ONNX twin `build` makes, or the network itself. */
async function choose<M>(network: M & object, request: EngineRequest, problem: string | null, build: () => Promise<M & { dispose(): Promise<void> }>, what: string): Promise<SamplingEngine<M>> {
  const onTensorFlow = (reason: string): SamplingEngine<M> => ({ model: network, engine: "tfjs", reason, dispose: async () => {} });
  if (request === "tfjs") return onTensorFlow("TensorFlow.js (asked for)");
  if (problem !== null) {
    if (request === "onnx") throw new Error(`ONNX Runtime cannot sample ${what}: ${problem}. Use the TensorFlow.js engine instead (--engine tfjs, or auto).`);
    return onTensorFlow(`TensorFlow.js (ONNX Runtime, the faster engine, is out: ${problem})`);
  }
  const twin = await build();
  const how = request === "auto" ? "the fastest engine here, chosen by auto; --engine tfjs for TensorFlow.js" : "asked for";
  return { model: twin, engine: "onnx", reason: `ONNX Runtime (its graph built from the same weights; ${how})`, dispose: () => twin.dispose() };
}

/**
 * The noise model to sample `network` with: its ONNX twin (OnnxNoiseModel: a ContextUnet, with or
 * without a learned variance, an AttentionUnet, a TextContextUnet) or the network itself.
 */
export function noiseModelEngine(network: NoiseModel & object, request: EngineRequest = "auto", options: EngineOptions = {}): Promise<SamplingEngine<NoiseModel>> {
  const problem = onnxProblem(network, isOnnxExportable(network), "ContextUnet, AttentionUnet and TextContextUnet", options);
  const build = () => OnnxNoiseModel.fromNetwork(network as OnnxExportable, options);
  return choose<NoiseModel>(network, request, problem, build, options.what ?? "the model");
}

/** The ARDM network to sample or measure `network` with: its ONNX twin (OnnxArdmNetwork) or the network itself. */
export function ardmNetworkEngine(network: ArdmNetwork & object, request: EngineRequest = "auto", options: EngineOptions = {}): Promise<SamplingEngine<ArdmNetwork>> {
  const problem = onnxProblem(network, hasArdmOnnxGraph(network), "ArdmTransformer and ArdmConvUnet", options);
  return choose<ArdmNetwork>(network, request, problem, () => OnnxArdmNetwork.fromNetwork(network, options), options.what ?? "the ARDM");
}
