/**
 * Multi-threaded wasm in Node. tfjs-backend-wasm 4.22 ships a threaded SIMD build (XNNPACK on a
 * pthread pool of Node worker threads) but never uses it in Node, for three reasons this file
 * works around, all before the backend initialises:
 *   1. its WASM_HAS_MULTITHREAD_SUPPORT flag answers false whenever IS_NODE (tfjs issue 3830);
 *   2. it starts the pthread workers from a Blob URL, which Node's Worker rejects
 *      (ERR_WORKER_PATH), and hands them the module as a Blob they cannot read synchronously;
 *   3. its C++ caps the pool at emscripten_num_logical_cores() / 2 (it assumes two hyper-threads
 *      per core), i.e. os.cpus().length / 2, which is 1 on a 2-core machine.
 * (2) is fixed by a Worker subclass that runs the same worker script from source and points it at
 * the module's file; (3) by reporting twice the wanted thread count to that one call. Measured on
 * this 2-core VM with its second core free: 2 threads ran XNNPACK convolutions and matrix products
 * 1.8-1.9x faster. With another process saturating a core there is no gain (2 threads were 0-10%
 * slower than 1). Threads are opt-in (SPRITE_DIFFUSION_WASM_THREADS=2): see defaultWasmThreads. The pool speeds up
 * XNNPACK's convolutions and matrix products; most other tfjs kernels are single-threaded loops.
 */
import * as path from "path";
import * as tf from "@tensorflow/tfjs-core";

/** Set to a thread count to override the default (the machine's cores, at most 8); 1 disables threads. */
export const WASM_THREADS_ENV = "SPRITE_DIFFUSION_WASM_THREADS";

/** The os module object itself (not an import-interop copy): its cpus() is what emscripten calls. */
function nodeOs(): typeof import("os") {
  return require("os") as typeof import("os");
}

/** The threaded build pre-starts 8 workers; XNNPACK's pool cannot use more. */
const MAX_THREADS = 8;

interface WasmPackage {
  setThreadsCount(n: number): void;
  getThreadsCount(): number;
}

function wasmPackage(): WasmPackage {
  return require("@tensorflow/tfjs-backend-wasm") as WasmPackage;
}

/**
 * The thread count used when none is requested: 1. The threaded pool is opt-in
 * (SPRITE_DIFFUSION_WASM_THREADS=2 or more): in the benchmark's worker processes it was seen to
 * hang (every thread asleep) under load, which a fallback backend must never do.
 */
export function defaultWasmThreads(): number {
  const fromEnv = process.env[WASM_THREADS_ENV];
  if (fromEnv !== undefined && fromEnv.trim() !== "") {
    const n = Number(fromEnv);
    if (!Number.isInteger(n) || n < 1) {
      throw new Error(`${WASM_THREADS_ENV}="${fromEnv}" is not a thread count: use an integer >= 1, or unset it.`);
    }
    return Math.min(n, MAX_THREADS);
  }
  return 1;
}

/** This machine's cores, within 1..8: the count to ask for when opting in to threads. */
export function availableWasmThreads(): number {
  const os = nodeOs();
  const cores = typeof os.availableParallelism === "function" ? os.availableParallelism() : os.cpus().length;
  return Math.max(1, Math.min(cores, MAX_THREADS));
}

let workerPatched = false;

/** Fix (2): pthread workers from source instead of a Blob URL, given the module as a file path. */
function patchWorkerForNode(): void {
  if (workerPatched) return;
  const packageDir = path.dirname(require.resolve("@tensorflow/tfjs-backend-wasm/package.json"));
  const moduleFile = path.join(packageDir, "wasm-out", "tfjs-backend-wasm-threaded-simd.js");
  const workerSource = require(path.join(packageDir, "wasm-out", "tfjs-backend-wasm-threaded-simd.worker.js"))
    .wasmWorkerContents as string;
  // As tfjs does before making its Blob: the source's "\n" escapes must survive as escapes.
  const workerCode = workerSource.replace(/\n/g, "\\n");
  const workerThreads = require("worker_threads") as typeof import("worker_threads");
  const NodeWorker = workerThreads.Worker;
  class BlobFreeWorker extends NodeWorker {
    constructor(file: string | URL, options?: import("worker_threads").WorkerOptions) {
      const fromBlob = typeof file === "string" && file.startsWith("blob:");
      super(fromBlob ? workerCode : file, fromBlob ? { ...options, eval: true } : options);
    }
    override postMessage(message: unknown, transferList?: readonly import("worker_threads").TransferListItem[]): void {
      const load = message as { cmd?: string; urlOrBlob?: unknown } | null;
      // The worker evaluates urlOrBlob to define the module factory; a Blob it could only read asynchronously.
      if (load?.cmd === "load" && typeof load.urlOrBlob !== "string") message = { ...load, urlOrBlob: moduleFile };
      super.postMessage(message, transferList);
    }
  }
  // The emscripten loader reads require("worker_threads").Worker when the backend initialises.
  (workerThreads as { Worker: unknown }).Worker = BlobFreeWorker;
  workerPatched = true;
}

let reportedCores = 0;
let cpusWrapped = false;

/** Fix (3): emscripten_num_logical_cores() sees 2 x threads logical cores; every other caller sees the truth. */
function reportCoresToEmscripten(threads: number): void {
  reportedCores = 2 * threads;
  if (cpusWrapped) return;
  const os = nodeOs() as { cpus: () => import("os").CpuInfo[] };
  const real = os.cpus;
  cpusWrapped = true;
  os.cpus = function cpus() {
    const cores = real();
    if (reportedCores === 0 || !String(new Error().stack).includes("_emscripten_num_logical_cores")) return cores;
    return Array.from({ length: reportedCores }, (_, i) => cores[i % cores.length]);
  };
}

function backendInitialised(): boolean {
  try {
    wasmPackage().getThreadsCount();
    return true;
  } catch {
    return false;
  }
}

/**
 * Makes the next initialisation of the wasm backend use `threads` threads (default: the
 * machine's cores). Call before the first tf.setBackend("wasm"); later calls cannot change a
 * running backend and return its thread count. Returns the count requested, or the running one.
 */
export function enableWasmThreads(threads = defaultWasmThreads()): number {
  const wasm = wasmPackage(); // registers the WASM_* flags
  if (backendInitialised()) return wasm.getThreadsCount();
  if (threads <= 1) {
    disableWasmThreads();
    return 1;
  }
  patchWorkerForNode();
  reportCoresToEmscripten(threads);
  tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", true);
  wasm.setThreadsCount(threads);
  return threads;
}

/** Back to tfjs' own choice in Node: the single-threaded SIMD build (before initialisation only). */
export function disableWasmThreads(): void {
  const wasm = wasmPackage();
  reportedCores = 0;
  tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", false);
  wasm.setThreadsCount(1);
}

/** Threads the running wasm backend uses (1 = single-threaded), or 0 before it has initialised. */
export function wasmThreadsInUse(): number {
  return backendInitialised() ? wasmPackage().getThreadsCount() : 0;
}
