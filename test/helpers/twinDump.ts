/**
 * A PyTorch twin's `dump` (bench/*_torch.py, through bench/twin_tools.py) on the project's own
 * weights: the config, the weights in PyTorch's layouts by state_dict name and the inputs go to a
 * scratch folder as JSON, the twin runs once in float32 and once in float64 (one thread, so its
 * sums are reproducible), and both of its outputs come back. The parity tests compare ours with
 * the float32 run and use the float64 one to show what float32 itself loses.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ParameterStore, WeightMap } from "../../src/lib/model/parameters";
import { toTorchLayout } from "../../src/lib/model/torchLayout";

export const TWIN_PYTHON = "/usr/bin/python3";
/** The twins' environment: one OpenMP thread. */
export const TWIN_ENV = { ...process.env, OMP_NUM_THREADS: "1" };

/**
 * @param twin        the twin's script.
 * @param parameters  the network's store (each weight's kind says how its layout maps to PyTorch's).
 * @param weights     the weights to send (the network's own, perhaps moved from their initial values).
 * @param configText  the config file's text the twin builds its network from.
 * @param inputs      the twin's inputs.json, as the script documents it.
 */
export function runTwinDump<T>(twin: string, parameters: ParameterStore, weights: WeightMap, configText: string, inputs: unknown): { float32: T; float64: T } {
  const dir = mkdtempSync(join(tmpdir(), "twin-dump-"));
  try {
    writeFileSync(join(dir, "config.json"), configText);
    const torchWeights = Object.fromEntries(
      Object.entries(weights).map(([key, w]) => [key, { data: Array.from(toTorchLayout(parameters.spec(key).kind, w.shape, w.data)) }]),
    );
    writeFileSync(join(dir, "weights.json"), JSON.stringify(torchWeights));
    writeFileSync(join(dir, "inputs.json"), JSON.stringify(inputs));
    const run = (dtype: "float32" | "float64"): T => {
      const out = join(dir, `io-${dtype}.json`);
      const args = [twin, "dump", "--config", join(dir, "config.json"), "--weights", join(dir, "weights.json"), "--inputs", join(dir, "inputs.json"), "--out", out, "--threads", "1", "--dtype", dtype];
      execFileSync(TWIN_PYTHON, args, { stdio: ["ignore", "ignore", "pipe"], env: TWIN_ENV });
      return JSON.parse(readFileSync(out, "utf8")) as T;
    };
    return { float32: run("float32"), float64: run("float64") };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
