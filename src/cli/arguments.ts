/**
 * Checks every command makes before it starts work: output paths it will write (the folder exists
 * or can be made, the path is writable, the extension is right), options that need a partner, and
 * numbers. A mistake then costs a second, not a run of minutes that fails at its last line.
 */
import { accessSync, constants, existsSync, mkdirSync, statSync, writeFileSync } from "node:fs";
import { dirname, extname, resolve } from "node:path";
import { type SamplerChoice, parseSamplerName } from "../lib/diffusion/samplers";
import { ENGINE_REQUESTS, type EngineRequest } from "../lib/onnx/samplingEngine";

/** The nearest folder at or above `path` that exists (the root always does). */
function nearestExisting(path: string): string {
  let current = resolve(path);
  while (!existsSync(current)) current = dirname(current);
  return current;
}

function writable(path: string): boolean {
  try {
    accessSync(path, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** Why no folder can be at `dir` (null when it is, or can be made, a writable one). */
function folderProblem(dir: string): string | null {
  const existing = nearestExisting(dir);
  if (!statSync(existing).isDirectory()) {
    return existing === resolve(dir) ? `${dir} is a file, not a folder` : `${existing} is a file, so the folder ${resolve(dir)} cannot be made`;
  }
  return writable(existing) ? null : `${existing} is not writable`;
}

/**
 * Throws unless `dir` (named `option` in the message) is a writable folder or can be made as one:
 * the nearest existing folder at or above it must be a writable folder. Makes nothing.
 */
export function checkOutputFolder(dir: string, option: string): void {
  const problem = folderProblem(dir);
  if (problem) throw new Error(`${option} ${dir}: ${problem}; choose another folder.`);
}

/**
 * Throws unless a file can be written at `path` (named `option` in the message): its extension is
 * one of `extensions` (e.g. [".png"]), it is not a folder, and it is writable or its folder is
 * (or can be made). Makes nothing; writeOutputFile makes the folder when the work is done.
 */
export function checkOutputFile(path: string, option: string, extensions: readonly string[]): void {
  const extension = extname(path).toLowerCase();
  if (!extensions.includes(extension)) {
    throw new Error(`${option} ${path}: the file name should end in ${extensions.join(" or ")} (got "${extension || "no extension"}").`);
  }
  let problem: string | null;
  if (existsSync(path)) problem = statSync(path).isDirectory() ? "it is a folder; give a file name inside it" : writable(path) ? null : "it exists and is not writable";
  else problem = folderProblem(dirname(resolve(path)));
  if (problem) throw new Error(`${option} ${path}: cannot be written: ${problem}; choose another path.`);
}

/** Writes `bytes` to `path` (checked first with checkOutputFile), making its folder if missing. */
export function writeOutputFile(path: string, bytes: Uint8Array): void {
  mkdirSync(dirname(resolve(path)), { recursive: true });
  writeFileSync(path, bytes);
}

/** Values as node:util parseArgs returns them (a list for an option given with multiple: true); false and undefined mean "not given". */
type Given = Record<string, string | boolean | string[] | undefined>;

const isGiven = (values: Given, option: string) => values[option] !== undefined && values[option] !== false;

/** Throws when --option is given without --partner, which it needs; `what` says what to add or drop. */
export function requirePartner(values: Given, option: string, partner: string, what: string): void {
  if (isGiven(values, option) && !isGiven(values, partner)) throw new Error(`--${option} needs --${partner}: ${what}.`);
}

/** Throws when --option is given with any of `others`, which it would silently ignore. */
export function rejectTogether(values: Given, option: string, others: readonly string[]): void {
  const clashing = others.filter((other) => isGiven(values, other));
  if (isGiven(values, option) && clashing.length > 0) {
    throw new Error(`--${option} ignores ${clashing.map((o) => `--${o}`).join(", ")}: drop ${clashing.length > 1 ? "them" : "it"} or --${option}.`);
  }
}

/** A number option: undefined stays undefined; otherwise finite, >= min, and whole when `integer`. */
export function numberOption(value: string | undefined, option: string, rule: { integer?: boolean; min?: number } = {}): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  const { integer = false, min = -Infinity } = rule;
  if (value.trim() === "" || !Number.isFinite(parsed) || (integer && !Number.isInteger(parsed)) || parsed < min) {
    const kind = integer ? "a whole number" : "a number";
    throw new Error(`--${option} must be ${kind}${min > -Infinity ? ` >= ${min}` : ""}, got "${value}".`);
  }
  return parsed;
}

/** A choice among names: undefined stays undefined; otherwise one of `allowed`, else an error listing them. */
export function choiceOption<T extends string>(value: string | undefined, option: string, allowed: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  const found = allowed.find((name) => name === value);
  if (found === undefined) throw new Error(`--${option} must be one of ${allowed.join(", ")}, got "${value}".`);
  return found;
}

/** An on|off option as a boolean; undefined when not given (the library's default applies). */
export function onOffOption(value: string | undefined, option: string): boolean | undefined {
  const choice = choiceOption(value, option, ["on", "off"] as const);
  return choice === undefined ? undefined : choice === "on";
}

/** parseArgs' spec of the sampler options the measuring commands share (--sampler, --steps, --eta, --clip-denoised). */
export const SAMPLER_OPTIONS = {
  sampler: { type: "string", default: "ddim" },
  steps: { type: "string" },
  eta: { type: "string" },
  "clip-denoised": { type: "string" },
} as const;

/** Their lines in a command's usage text. */
export const SAMPLER_USAGE = `  --sampler NAME     ddim (default), ddpm or ddpm-no-noise
  --steps N          steps, dividing the checkpoint's T: DDIM's (default 25) or DDPM's (default T;
                     fewer: the respaced chain of improved DDPM)
  --eta X            DDIM only: eta (default 0)
  --clip-denoised on|off
                     clip the x_0 estimate to [-1, 1] at every step (default on where the schedule
                     magnifies eps^'s error in x_0 more than the course's: cosine, T = 1000; off on
                     the course's schedule); recorded`;

/** The sampler options checked into a SamplerChoice (the checkpoint's T checks the steps when sampling starts). */
export function samplerChoiceOption(values: { sampler?: string; steps?: string; eta?: string; "clip-denoised"?: string }): SamplerChoice {
  return {
    sampler: parseSamplerName(values.sampler ?? "ddim"),
    steps: numberOption(values.steps, "steps", { integer: true, min: 1 }),
    eta: numberOption(values.eta, "eta", { min: 0 }),
    clipDenoised: onOffOption(values["clip-denoised"], "clip-denoised"),
  };
}

/** parseArgs' spec of the sampling commands' engine options: --engine, and --onnx (short for --engine onnx). */
export const ENGINE_OPTIONS = {
  engine: { type: "string" },
  onnx: { type: "boolean", default: false },
} as const;

/** Their lines in a command's usage text. */
export const ENGINE_USAGE = `  --engine E         which engine runs the network's forward: auto (default), onnx or tfjs. auto
                     takes ONNX Runtime (onnxruntime-node, CPU; the ONNX graph built from the same
                     weights, equal to TensorFlow.js's to 1e-4 in the tests; up to 2x faster here,
                     bench/results/latest.md) whenever the network has a graph and the run needs no
                     TensorFlow.js step (classifier guidance), else TensorFlow.js, and says which
  --onnx             short for --engine onnx: ONNX Runtime or an error saying why not`;

/** The engine options checked into a request: --onnx is --engine onnx (an error beside another --engine). */
export function engineOption(values: { engine?: string; onnx?: boolean }): EngineRequest {
  const engine = choiceOption(values.engine ?? "auto", "engine", ENGINE_REQUESTS)!;
  if (!values.onnx) return engine;
  if (engine === "tfjs") throw new Error("--onnx asks for ONNX Runtime and --engine tfjs for TensorFlow.js: drop one of them.");
  return "onnx";
}
