/**
 * Runs one side of one case in a child process and collects its JSON line: our worker
 * (bench/worker.ts) on a TensorFlow.js backend, or the PyTorch reference
 * (../shared/bench/contextunet_torch.py, or the twin in bench/ of what it lacks) under a wrapper
 * that adds its peak RSS.
 *
 * The reference's Python: by default current PyTorch from PyPI in .venv-torch/, which
 * scripts/bench-torch-venv.sh makes on first use (PyPI's Linux torch wheel pulls about 3 GB of
 * NVIDIA CUDA libraries and needs them to import, even on the CPU); `--reference debian` takes
 * Debian's python3-torch (1.13) under /usr/bin/python3 instead, the second reference. The tests
 * never come here: their parity checks run Debian's /usr/bin/python3 themselves.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import type { BenchCase } from "./worker";

export const PROJECT_ROOT = resolve(__dirname, "..");
export const TORCH_SCRIPT = resolve(PROJECT_ROOT, "../shared/bench/contextunet_torch.py");
/** The twins of what the shared reference does not cover: guided sampling loops, the noisy classifier, improved DDPM, the attention UNet, the ARDM's networks, the text model. */
const GUIDANCE_TWIN = resolve(PROJECT_ROOT, "bench/guidance_torch.py");
const CLASSIFIER_TWIN = resolve(PROJECT_ROOT, "bench/noisy_classifier_torch.py");
const IMPROVED_DDPM_TWIN = resolve(PROJECT_ROOT, "bench/improved_ddpm_torch.py");
const ATTENTION_TWIN = resolve(PROJECT_ROOT, "bench/attention_unet_torch.py");
const ARDM_TWIN = resolve(PROJECT_ROOT, "bench/ardm_torch.py");
const ARDM_CONV_TWIN = resolve(PROJECT_ROOT, "bench/ardm_conv_torch.py");
const TEXT_TWIN = resolve(PROJECT_ROOT, "bench/caption_encoder_torch.py");
/** The text model both sides build the text rows at (relative to the project root): its vocabulary and sizes, from its manifest. */
export const TEXT_MODEL_DIR = "models/text";
/** The config file (relative to the project root) both sides build the attention UNet's rows from: its model, schedule, batch and learning rate. */
export const ATTENTION_CONFIG_FILE = "configs/mnist.json";
/** The ARDM's training batch: its recipe's (ARDM_TRAIN_DEFAULTS.batchSize, src/lib/ardm/training.ts, as `npm run train-ardm` trains). */
export const ARDM_TRAIN_BATCH = 16;
/** Debian's Python, with python3-torch (PyTorch 1.13): the second reference, and what the tests use. */
export const DEBIAN_PYTHON = "/usr/bin/python3";
/** The bench's own environment with current PyTorch from PyPI, made by TORCH_VENV_SCRIPT from TORCH_REQUIREMENTS. */
export const TORCH_VENV = resolve(PROJECT_ROOT, ".venv-torch");
export const TORCH_VENV_SCRIPT = resolve(PROJECT_ROOT, "scripts/bench-torch-venv.sh");
export const TORCH_REQUIREMENTS = resolve(PROJECT_ROOT, "scripts/bench-torch-requirements.txt");

/** Where the reference's PyTorch comes from: PyPI (current, the default) or Debian's python3-torch. */
export type ReferenceKind = "pypi" | "debian";
export const REFERENCE_KINDS: ReferenceKind[] = ["pypi", "debian"];

/** The reference's Python and how the tables name its origin. */
export interface Reference {
  kind: ReferenceKind;
  python: string;
  /** e.g. "PyPI, .venv-torch" or "Debian python3-torch, /usr/bin/python3" */
  origin: string;
}

/** The torch version scripts/bench-torch-requirements.txt pins, or null. */
export function pinnedTorchVersion(): string | null {
  try {
    return /^torch==(\S+)/m.exec(readFileSync(TORCH_REQUIREMENTS, "utf8"))?.[1] ?? null;
  } catch {
    return null;
  }
}

/**
 * The reference's Python, made ready: for "pypi", scripts/bench-torch-venv.sh reuses .venv-torch
 * or makes it (its messages, with the download's size, go to our stderr as they come); for
 * "debian", /usr/bin/python3 as it is. `error` says why it is not usable.
 */
export function prepareReference(kind: ReferenceKind): { reference: Reference; error?: string } {
  if (kind === "debian") return { reference: { kind, python: DEBIAN_PYTHON, origin: `Debian python3-torch, ${DEBIAN_PYTHON}` } };
  const reference: Reference = { kind, python: resolve(TORCH_VENV, "bin/python"), origin: "PyPI, .venv-torch" };
  const child = spawnSync("bash", [TORCH_VENV_SCRIPT], { encoding: "utf8", cwd: PROJECT_ROOT, stdio: ["ignore", "pipe", "inherit"] });
  if (child.error) return { reference, error: `bash ${TORCH_VENV_SCRIPT} cannot run: ${child.error.message}` };
  if (child.status !== 0) return { reference, error: `scripts/bench-torch-venv.sh could not make ${TORCH_VENV} (see its message above; --reference debian runs Debian's python3-torch instead)` };
  const python = lastLine(child.stdout ?? "");
  return { reference: { ...reference, python: python || reference.python } };
}

/** Each case the shared reference lacks: its twin, the twin's bench mode, and arguments beyond the timing ones. */
const TWIN_CASES: Partial<Record<BenchCase, { script: string; mode: string; args?: string[] }>> = {
  "cfg-ddim": { script: GUIDANCE_TWIN, mode: "cfg-ddim" },
  "classifier-ddim": { script: GUIDANCE_TWIN, mode: "classifier-ddim" },
  "classifier-grad": { script: CLASSIFIER_TWIN, mode: "guide" },
  "hybrid-train": { script: IMPROVED_DDPM_TWIN, mode: "hybrid-train" },
  "learned-sample": { script: IMPROVED_DDPM_TWIN, mode: "learned-sample" },
  "attention-train": { script: ATTENTION_TWIN, mode: "train", args: ["--config", ATTENTION_CONFIG_FILE] },
  "attention-sample": { script: ATTENTION_TWIN, mode: "sample", args: ["--config", ATTENTION_CONFIG_FILE] },
  "attention-ddim": { script: ATTENTION_TWIN, mode: "ddim", args: ["--config", ATTENTION_CONFIG_FILE] },
  // Our eps from ONNX Runtime, against the same PyTorch rows as sample, attention-sample, ddim, cfg-ddim and attention-ddim.
  "onnx-sample": { script: TORCH_SCRIPT, mode: "sample" },
  "attention-onnx-sample": { script: ATTENTION_TWIN, mode: "sample", args: ["--config", ATTENTION_CONFIG_FILE] },
  "onnx-ddim": { script: TORCH_SCRIPT, mode: "ddim" },
  "cfg-onnx-ddim": { script: GUIDANCE_TWIN, mode: "cfg-ddim" },
  "attention-onnx-ddim": { script: ATTENTION_TWIN, mode: "ddim", args: ["--config", ATTENTION_CONFIG_FILE] },
  "ardm-train": { script: ARDM_TWIN, mode: "train", args: ["--batch", String(ARDM_TRAIN_BATCH)] },
  "ardm-step": { script: ARDM_TWIN, mode: "sample" },
  "ardm-conv-train": { script: ARDM_CONV_TWIN, mode: "train", args: ["--batch", String(ARDM_TRAIN_BATCH)] },
  "ardm-conv-step": { script: ARDM_CONV_TWIN, mode: "sample" },
  // Our logits from ONNX Runtime, against the same PyTorch rows as ardm-step and ardm-conv-step.
  "ardm-onnx-step": { script: ARDM_TWIN, mode: "sample" },
  "ardm-conv-onnx-step": { script: ARDM_CONV_TWIN, mode: "sample" },
  "text-train": { script: TEXT_TWIN, mode: "text-train", args: ["--config", `${TEXT_MODEL_DIR}/manifest.json`] },
  "text-sample": { script: TEXT_TWIN, mode: "text-sample", args: ["--config", `${TEXT_MODEL_DIR}/manifest.json`] },
  "text-onnx-sample": { script: TEXT_TWIN, mode: "text-sample", args: ["--config", `${TEXT_MODEL_DIR}/manifest.json`] },
};

/** What one child process measured. */
export interface SideRun {
  side: string;
  case: BenchCase;
  times_ms: number[];
  cpu_ms?: number[];
  peak_rss_mb: number;
  provider?: string;
  threads?: number;
  version?: string;
  /** Why the run produced no times. */
  error?: string;
}

export interface Reps {
  warmup: number;
  reps: number;
}

/** The last JSON object line of a child's stdout. */
function lastJsonLine(stdout: string): Record<string, unknown> | null {
  const lines = stdout.split("\n").filter((l) => l.trim().startsWith("{"));
  if (lines.length === 0) return null;
  try {
    return JSON.parse(lines[lines.length - 1]) as Record<string, unknown>;
  } catch {
    return null;
  }
}

/** The last non-empty line of a child's stderr, for failure reasons. */
function lastLine(text: string): string {
  const lines = text.split("\n").map((l) => l.trim()).filter(Boolean);
  return lines.length ? lines[lines.length - 1].slice(0, 300) : "";
}

/** The reference's torch.__version__, or why it cannot run here. */
export function torchVersion(reference: Reference): { version: string } | { error: string } {
  if (!existsSync(TORCH_SCRIPT)) return { error: `${TORCH_SCRIPT} is missing (the shared bench folder beside the project)` };
  const probe = spawnSync(reference.python, ["-c", "import torch; print(torch.__version__)"], { encoding: "utf8" });
  if (probe.error) return { error: `${reference.python} cannot run: ${probe.error.message}` };
  const remedy = reference.kind === "debian" ? "install it: apt-get install -y python3-torch" : `remake it: rm -rf ${TORCH_VENV}; bash scripts/bench-torch-venv.sh`;
  if (probe.status !== 0) return { error: `${reference.python} cannot import torch (${remedy}): ${lastLine(probe.stderr ?? "")}` };
  return { version: lastLine(probe.stdout ?? "") };
}

// Runs the reference script as __main__ and then prints the process's peak RSS (ru_maxrss, kB).
// The script's folder goes first on sys.path, as `python3 script` puts it (the twins import twin_tools).
const TORCH_WRAPPER = [
  "import json, os, resource, runpy, sys",
  "script = sys.argv[1]",
  "sys.argv = sys.argv[1:]",
  "sys.path.insert(0, os.path.dirname(os.path.abspath(script)))",
  "try:",
  "    runpy.run_path(script, run_name='__main__')",
  "finally:",
  "    sys.stdout.flush()",
  "    print(json.dumps({'peak_rss_kb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))",
].join("\n");

function runTorchScript(reference: Reference, args: string[], script = TORCH_SCRIPT): { result: Record<string, unknown> | null; peakMb: number; error?: string } {
  const child = spawnSync(reference.python, ["-c", TORCH_WRAPPER, script, ...args], {
    encoding: "utf8",
    cwd: PROJECT_ROOT,
    maxBuffer: 64 * 2 ** 20,
  });
  const lines = (child.stdout ?? "").split("\n").filter((l) => l.trim().startsWith("{"));
  const rss = lines.length ? (JSON.parse(lines[lines.length - 1]) as { peak_rss_kb?: number }) : {};
  const result = lines.length > 1 ? (JSON.parse(lines[lines.length - 2]) as Record<string, unknown>) : null;
  const error = child.status === 0 && result ? undefined : lastLine(child.stderr ?? "") || `exit status ${child.status}`;
  return { result, peakMb: (rss.peak_rss_kb ?? 0) / 1024, error };
}

/** The reference's timing of one case (its own warm-up, then `reps` timed repetitions). */
export function runTorch(reference: Reference, benchCase: BenchCase, reps: Reps, matmulN = 2048): SideRun {
  const twin = TWIN_CASES[benchCase];
  const args =
    benchCase === "matmul"
      ? ["matmul", "--impl", "conv1x1", "--n", String(matmulN), "--warmup", String(reps.warmup), "--reps", String(reps.reps)]
      : ["bench", "--mode", twin?.mode ?? benchCase, "--warmup", String(reps.warmup), "--reps", String(reps.reps), "--threads", "2", ...(twin?.args ?? [])];
  if (benchCase === "ddpm") args.push("--steps", "25");
  const { result, peakMb, error } = runTorchScript(reference, args, twin?.script ?? TORCH_SCRIPT);
  return {
    side: "torch",
    case: benchCase,
    times_ms: (result?.times_ms as number[] | undefined) ?? [],
    peak_rss_mb: peakMb,
    threads: result?.threads as number | undefined,
    version: result?.torch as string | undefined,
    provider: `PyTorch (${reference.origin})`,
    ...(error ? { error } : {}),
  };
}

/** Multiply-adds per image forward, from the reference (its own count), or null. */
export function torchMacsPerImage(reference: Reference): number | null {
  const { result } = runTorchScript(reference, ["flops"]);
  const macs = result?.macs_per_image_forward;
  return typeof macs === "number" ? macs : null;
}

/** Our worker on one backend. */
export function runOurs(backend: string, benchCase: BenchCase, reps: Reps, n?: number): SideRun {
  const args = ["--import", "tsx", resolve(__dirname, "worker.ts"), "--backend", backend, "--case", benchCase];
  args.push("--warmup", String(reps.warmup), "--reps", String(reps.reps));
  if (n !== undefined) args.push("--n", String(n));
  const child = spawnSync(process.execPath, args, {
    encoding: "utf8",
    cwd: PROJECT_ROOT,
    env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: "2" },
    maxBuffer: 64 * 2 ** 20,
  });
  const result = lastJsonLine(child.stdout ?? "");
  const crashed = !result || result.times_ms === undefined;
  const error = (result?.error as string | undefined) ??
    (crashed ? lastLine(child.stderr ?? "") || `worker exited with status ${child.status} (signal ${child.signal})` : undefined);
  return {
    side: backend,
    case: benchCase,
    times_ms: (result?.times_ms as number[] | undefined) ?? [],
    cpu_ms: (result?.cpu_ms as number[] | undefined) ?? [],
    peak_rss_mb: (result?.peak_rss_mb as number | undefined) ?? 0,
    provider: result?.provider as string | undefined,
    ...(error ? { error } : {}),
  };
}
