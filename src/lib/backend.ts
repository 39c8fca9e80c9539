/**
 * Chooses the TensorFlow.js backend, in one place: native TensorFlow (@tensorflow/tfjs-node-gpu,
 * then @tensorflow/tfjs-node) when importable, else WebAssembly, else plain JavaScript (cpu).
 * SPRITE_DIFFUSION_BACKEND=tensorflow|wasm|cpu overrides the choice. Both native packages are
 * optional: they cannot install without their libtensorflow download (see environment.md).
 */
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { registerNativeKernels } from "./perf";

export type BackendName = "tensorflow" | "wasm" | "cpu";

export const BACKEND_ENV = "SPRITE_DIFFUSION_BACKEND";

export interface BackendChoice {
  /** The tfjs backend now active. */
  name: BackendName;
  /** The package that provides it. */
  provider: string;
  /** Why this one: what was tried and why the better ones were not used. */
  reason: string;
}

/** Preference order when nothing is requested. */
const ORDER: BackendName[] = ["tensorflow", "wasm", "cpu"];

/** Loads a native package; returns why not, or null when its backend is registered. */
function loadNative(pkg: string): string | null {
  // TensorFlow's C++ start-up banner (oneDNN notices) is noise in notebooks and logs.
  process.env.TF_CPP_MIN_LOG_LEVEL ??= "2";
  try {
    require(pkg);
  } catch (error) {
    const first = String((error as Error).message).split("\n")[0];
    return (error as { code?: string }).code === "MODULE_NOT_FOUND" && first.includes(`'${pkg}'`)
      ? `${pkg} is not installed`
      : `${pkg} failed to load: ${first}`;
  }
  return tf.findBackend("tensorflow")
    ? null
    : `${pkg} loaded but registered its backend in another copy of @tensorflow/tfjs-core (versions differ)`;
}

/** Tries one backend; returns why it is unusable, or null when it is now active. */
async function activate(name: BackendName, provider: { value: string }): Promise<string | null> {
  if (name === "tensorflow") {
    const reasons: string[] = [];
    for (const pkg of ["@tensorflow/tfjs-node-gpu", "@tensorflow/tfjs-node"]) {
      const why = tf.findBackend("tensorflow") ? null : loadNative(pkg);
      if (why === null) {
        provider.value = pkg;
        break;
      }
      reasons.push(why);
    }
    if (!tf.findBackend("tensorflow")) return reasons.join("; ");
    // Fused kernels for the model's own (src/lib/perf); other backends run the portable versions.
    provider.value += `; fused: ${registerNativeKernels()}`;
  } else if (name === "wasm") {
    try {
      require("@tensorflow/tfjs-backend-wasm");
    } catch (error) {
      return `@tensorflow/tfjs-backend-wasm failed to load: ${(error as Error).message}`;
    }
    try {
      // Kernels wasm lacks or gets wrong for training, and its threads in Node (src/lib/wasm).
      const start = await (require("./wasm") as typeof import("./wasm")).startWasmBackend();
      provider.value = `@tensorflow/tfjs-backend-wasm, ${start.note}`;
    } catch (error) {
      return (error as Error).message;
    }
    return null;
  } else {
    provider.value = "@tensorflow/tfjs-backend-cpu";
  }
  try {
    if (!(await tf.setBackend(name))) return `tf.setBackend("${name}") failed`;
    await tf.ready();
    // The cpu backend's first write prints "Hi, looks like you are running TensorFlow.js in
    // Node.js..." to stderr; the reason native is not used is reported by describeBackend.
    if (name === "cpu") (tf.backend() as unknown as { firstUse: boolean }).firstUse = false;
  } catch (error) {
    return `backend "${name}" failed to initialise: ${(error as Error).message}`;
  }
  return null;
}

let current: BackendChoice | null = null;

/**
 * Activates the best backend present (or `requested`, default $SPRITE_DIFFUSION_BACKEND) and
 * says which and why. Safe to call repeatedly: later calls return the first choice unless a
 * different backend is requested.
 */
export async function initBackend(requested: string | undefined = process.env[BACKEND_ENV]): Promise<BackendChoice> {
  const wanted = requested?.trim().toLowerCase() || undefined;
  if (wanted !== undefined && !ORDER.includes(wanted as BackendName)) {
    throw new Error(`${BACKEND_ENV}="${requested}" is not a backend: use one of ${ORDER.join(", ")}, or unset it.`);
  }
  if (current && (wanted === undefined || wanted === current.name) && tf.getBackend() === current.name) return current;
  const candidates = wanted ? [wanted as BackendName] : ORDER;
  const skipped: string[] = [];
  for (const name of candidates) {
    const provider = { value: "" };
    const why = await activate(name, provider);
    if (why === null) {
      const reason = wanted
        ? `requested by ${BACKEND_ENV}=${wanted}`
        : skipped.length === 0
          ? "the fastest backend, available"
          : `fastest available (${skipped.join("; ")})`;
      current = { name, provider: provider.value, reason };
      return current;
    }
    if (wanted) throw new Error(`${BACKEND_ENV}=${wanted} was requested but is unavailable: ${why}.`);
    skipped.push(`${name}: ${why}`);
  }
  throw new Error(`No TensorFlow.js backend could start: ${skipped.join("; ")}.`);
}

/** One line for logs and notebooks, e.g. "backend: tensorflow (@tensorflow/tfjs-node) - ...". */
export function describeBackend(choice: BackendChoice): string {
  return `backend: ${choice.name} (${choice.provider}) - ${choice.reason}`;
}
