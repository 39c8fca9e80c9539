/**
 * wasm's threads in Node (src/lib/wasm/threads.ts): the backend starts with one thread per core
 * (at most 8), other callers of os.cpus() still see the real machine, and the thread-count
 * override parses strictly.
 */
import * as os from "os";
import { afterEach, describe, expect, it } from "vitest";
import { WASM_THREADS_ENV, defaultWasmThreads, wasmThreadsInUse } from "../../src/lib/wasm";
import { itOnWasm, wasmForTests } from "./wasmBackend";

const realCoreCount = os.cpus().length;
const savedOverride = process.env[WASM_THREADS_ENV];

describe("wasm threads in Node", () => {
  afterEach(() => {
    if (savedOverride === undefined) delete process.env[WASM_THREADS_ENV];
    else process.env[WASM_THREADS_ENV] = savedOverride;
  });

  itOnWasm("runs XNNPACK on one thread per core, as many as the default asks", async () => {
    const { start } = await wasmForTests();
    const wanted = defaultWasmThreads();
    // If this fails with 1 thread on a multi-core machine, the Node workaround stopped working
    // (a tfjs-backend-wasm or Node upgrade): training then runs single-threaded, about 1.9x slower.
    expect(start?.threads, start?.note).toBe(wanted);
    expect(wasmThreadsInUse()).toBe(wanted);
  });

  itOnWasm("leaves os.cpus() telling everyone else the truth", () => {
    expect(os.cpus().length).toBe(realCoreCount);
  });

  it(`reads ${WASM_THREADS_ENV} strictly: integers >= 1, capped at the 8 workers the build starts`, () => {
    process.env[WASM_THREADS_ENV] = "1";
    expect(defaultWasmThreads()).toBe(1);
    process.env[WASM_THREADS_ENV] = "3";
    expect(defaultWasmThreads()).toBe(3);
    process.env[WASM_THREADS_ENV] = "64";
    expect(defaultWasmThreads()).toBe(8);
    for (const bad of ["0", "-2", "1.5", "two"]) {
      process.env[WASM_THREADS_ENV] = bad;
      expect(() => defaultWasmThreads(), bad).toThrow(new RegExp(`${WASM_THREADS_ENV}="${bad}" is not a thread count`));
    }
  });
});
