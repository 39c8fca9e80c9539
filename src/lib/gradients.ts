/**
 * Registers TensorFlow.js's gradient functions, which training needs. @tensorflow/tfjs-core's
 * CommonJS bundle carries none, and its `register_all_gradients` module is ES-module-only with
 * extensionless imports (fine for bundlers and vitest, not for Node's require, which is how
 * tslab and dist/ load the library). The @tensorflow/tfjs package's CommonJS bundle registers
 * the same gradients in the registry that every copy of tfjs-core shares.
 */
import "@tensorflow/tfjs";
