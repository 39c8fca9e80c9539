/**
 * The PyTorch reference (../shared/bench/contextunet_torch.py): its `dump` writes weights and
 * reference inputs, outputs and gradients for a parity check. Made once per test run, cached.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";

export const TORCH_SCRIPT = resolve(__dirname, "../../../shared/bench/contextunet_torch.py");
const PYTHON = "/usr/bin/python3";
const CACHE = resolve(__dirname, "../../.tmp/parity");

export interface TorchDump {
  weights: Record<string, { shape: number[]; data: number[] }>;
  io: {
    x: number[];
    t: number[];
    c: number[];
    y_train: number[];
    y_eval: number[];
    loss: number;
    grads: Record<string, number[]>;
    params: number;
  };
}

/** Why the reference cannot run here, or null when it can. */
export function torchUnavailable(): string | null {
  if (!existsSync(TORCH_SCRIPT)) return `${TORCH_SCRIPT} is missing (../shared beside the project)`;
  try {
    execFileSync(PYTHON, ["-c", "import torch"], { stdio: "ignore" });
    return null;
  } catch {
    return `${PYTHON} cannot import torch (apt-get install -y python3-torch)`;
  }
}

export function loadTorchDump(): TorchDump {
  if (!existsSync(join(CACHE, "io.json"))) {
    mkdirSync(CACHE, { recursive: true });
    execFileSync(PYTHON, [TORCH_SCRIPT, "dump", "--out", CACHE], { stdio: "ignore" });
  }
  return {
    weights: JSON.parse(readFileSync(join(CACHE, "weights.json"), "utf8")),
    io: JSON.parse(readFileSync(join(CACHE, "io.json"), "utf8")),
  };
}
