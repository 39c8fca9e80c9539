/**
 * Which backend a test file runs on: SPRITE_DIFFUSION_TEST_BACKEND, else cpu (the reference
 * every other backend is compared with).
 */
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";

export async function useTestBackend(name = process.env.SPRITE_DIFFUSION_TEST_BACKEND ?? "cpu"): Promise<string> {
  if (tf.getBackend() === name) return name;
  // Through the library's chooser, so wasm gets its training kernels and threads.
  const { initBackend } = await import("../../src/lib/backend");
  return (await initBackend(name)).name;
}

/**
 * The fastest backend present (native TensorFlow, else wasm, else cpu), for tests that train;
 * prints which, so a CI log says what ran.
 */
export async function useFastestBackend(): Promise<string> {
  const { initBackend, describeBackend } = await import("../../src/lib/backend");
  const choice = await initBackend();
  console.info(`[tests] ${describeBackend(choice)}`);
  return choice.name;
}
