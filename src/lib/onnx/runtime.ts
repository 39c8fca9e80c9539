/**
 * ONNX Runtime for Node.js (the optional package onnxruntime-node 1.30), loaded on first use so
 * that the library and its TensorFlow.js path work without it. Only the few members used here
 * are typed, structurally, so the library compiles whether or not the package is installed.
 */

/** An onnxruntime Tensor: type, data and dims. */
export interface OrtTensor {
  readonly type: string;
  readonly data: unknown;
  readonly dims: readonly number[];
  dispose?(): void;
}

/** A loaded model: run(feeds) -> outputs by name (asynchronous: it runs on ONNX Runtime's threads). */
export interface OrtSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  run(feeds: Record<string, OrtTensor>): Promise<Record<string, OrtTensor>>;
  release(): Promise<void>;
}

/** The parts of the onnxruntime-node module this library uses. */
export interface OrtModule {
  InferenceSession: { create(model: Uint8Array, options?: Record<string, unknown>): Promise<OrtSession> };
  Tensor: new (type: "float32", data: Float32Array, dims: readonly number[]) => OrtTensor;
  env: { versions?: Record<string, string> };
}

export const ONNX_RUNTIME_PACKAGE = "onnxruntime-node";

let loaded: { module: OrtModule } | { error: string } | null = null;

/** Why loading onnxruntime-node failed, in words: not installed (a MODULE_NOT_FOUND naming it), or the loader's first line. */
export function onnxRuntimeLoadProblem(error: unknown): string {
  const first = String((error as Error).message ?? error).split("\n")[0];
  const missing = (error as { code?: string }).code === "MODULE_NOT_FOUND" && first.includes(`'${ONNX_RUNTIME_PACKAGE}'`);
  return missing
    ? `${ONNX_RUNTIME_PACKAGE} is not installed (an optional dependency: \`npm install\` puts it in; the TensorFlow.js models work without it)`
    : `${ONNX_RUNTIME_PACKAGE} failed to load: ${first}`;
}

/** The onnxruntime-node module, or why it cannot be used (loaded once). */
export function tryLoadOnnxRuntime(): { module: OrtModule } | { error: string } {
  if (loaded) return loaded;
  try {
    loaded = { module: require(ONNX_RUNTIME_PACKAGE) as OrtModule };
  } catch (error) {
    loaded = { error: onnxRuntimeLoadProblem(error) };
  }
  return loaded;
}

/** Is ONNX Runtime usable here? */
export function onnxRuntimeAvailable(): boolean {
  return "module" in tryLoadOnnxRuntime();
}

/** The onnxruntime-node module; throws saying why it cannot be used and that the TensorFlow.js path still works. */
export function loadOnnxRuntime(): OrtModule {
  const result = tryLoadOnnxRuntime();
  if ("error" in result) throw new Error(`ONNX backend unavailable: ${result.error}. Sample with the model itself (TensorFlow.js) instead.`);
  return result.module;
}

export interface OnnxSessionOptions {
  /**
   * ONNX Runtime's intra-op threads (default: its own choice, one per physical core). The bench
   * and PyTorch's reference use 2; tests on a shared machine use 1.
   */
  threads?: number;
}

/**
 * A CPU session of an ONNX model's bytes with every graph optimization (level "all"): besides the
 * fusions (Conv + activation, GELU's Erf pattern into one Gelu, x sigmoid(x) into QuickGelu) it
 * lets ORT reorder convolutions into its blocked NCHWc layout, which made both networks' forward
 * at batch 32 about 1.4-1.6x faster than level "extended" (measured 2026-12-04, loaded machine).
 */
export function createOnnxSession(model: Uint8Array, options: OnnxSessionOptions = {}): Promise<OrtSession> {
  const ort = loadOnnxRuntime();
  return ort.InferenceSession.create(model, {
    executionProviders: ["cpu"],
    graphOptimizationLevel: "all",
    interOpNumThreads: 1,
    ...(options.threads !== undefined ? { intraOpNumThreads: options.threads } : {}),
  });
}
