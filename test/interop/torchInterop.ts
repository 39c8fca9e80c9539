/**
 * Runs test/interop/torch_interop.py (PyTorch's side of the interop tests) with Debian's
 * /usr/bin/python3 into a fresh temporary folder; see that script for its commands.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { permute } from "../../src/lib/model/torchLayout";

export { torchUnavailable } from "../helpers/torchReference";

export const PYTHON = "/usr/bin/python3";
export const INTEROP_SCRIPT = resolve(__dirname, "torch_interop.py");

/** A temporary folder for one test file's files; remove() deletes it. */
export function scratchFolder(): { dir: string; path: (name: string) => string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "sprite-interop-"));
  return { dir, path: (name) => join(dir, name), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Runs the script with `args`; throws with its stderr on failure. */
export function runTorch(args: string[]): void {
  try {
    execFileSync(PYTHON, [INTEROP_SCRIPT, ...args], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, OMP_NUM_THREADS: "1" } });
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString() ?? "";
    throw new Error(`${INTEROP_SCRIPT} ${args.join(" ")} failed:\n${stderr}`);
  }
}

/** Inputs (NCHW x, t, c) and PyTorch's eval outputs y, as save-pth writes them. */
export interface TorchIo {
  x: number[];
  t: number[];
  c: number[];
  y: number[];
  shape: [number, number, number, number];
}

export function readJson<T>(path: string): T {
  return JSON.parse(readFileSync(path, "utf8")) as T;
}

/** NCHW values of `shape` [n, c, h, w] as NHWC, and back. */
export const nchwToNhwc = (data: ArrayLike<number>, shape: number[]) => permute(data, shape, [0, 2, 3, 1]);
export const nhwcToNchw = (data: ArrayLike<number>, shape: number[]) => permute(data, shape, [0, 3, 1, 2]);

/** max |a - b| over all values. */
export function maxAbsDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`lengths differ: ${a.length} vs ${b.length}`);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}
