/** Kernels the wasm backend lacks for training (placeholder until src/lib/wasm lands). */
export function registerWasmTrainingKernels(): void {}
