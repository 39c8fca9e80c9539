/**
 * GELU and SiLU as kernels of this library, for backends that run them in one pass (native
 * TensorFlow with the library's own ops, src/lib/perf/fusedOpKernels.ts):
 *
 *   GeluExact      y  = x Phi(x),                 Phi(x) = (1 + erf(x / sqrt 2)) / 2
 *   GeluExactGrad  dx = dy (Phi(x) + x phi(x)),   phi(x) = exp(-x^2 / 2) / sqrt(2 pi)
 *   Silu           y  = x s(x),                   s(x) = 1 / (1 + exp(-x))
 *   SiluGrad       dx = dy s(x) (1 + x (1 - s(x)))
 *
 * GELU exact (Hendrycks & Gimpel 2016; PyTorch's nn.GELU()), SiLU (Elfwing et al. 2018; nn.SiLU).
 * The functions the models call (layers.ts's gelu, timeEmbedding.ts's silu) run these kernels
 * where the backend has them and their composites of tf ops elsewhere. The gradients are
 * registered here, once, for every backend that has the kernels.
 */
import * as tf from "@tensorflow/tfjs-core";

/** Inputs {x}, any shape, float32. Output y, x's shape. */
export const GeluExact = "GeluExact";
/** Inputs {dy, x}, the same shape. Output dx. */
export const GeluExactGrad = "GeluExactGrad";
/** Inputs {x}. Output y. */
export const Silu = "Silu";
/** Inputs {dy, x}. Output dx. */
export const SiluGrad = "SiluGrad";

for (const [kernelName, gradName] of [
  [GeluExact, GeluExactGrad],
  [Silu, SiluGrad],
]) {
  tf.registerGradient({
    kernelName,
    inputsToSave: ["x"],
    gradFunc: (dy, [x]) => ({ x: () => tf.engine().runKernel(gradName, { dy: dy as tf.Tensor, x }) as tf.Tensor }),
  });
}

/** Whether the active backend has kernel `name` of its own (these, or groupNormKernels.ts's). */
export function backendHasKernel(name: string): boolean {
  return tf.getKernel(name, tf.getBackend()) !== undefined;
}

/** y = f(x) through the active backend's kernel `name` (check backendHasKernel first); the caller owns y. */
export function runActivationKernel(name: typeof GeluExact | typeof Silu, x: tf.Tensor): tf.Tensor {
  return tf.engine().runKernel(name, { x }) as tf.Tensor;
}
