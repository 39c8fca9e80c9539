/**
 * models/likelihood.json: the recorded likelihood measurements (npm run nll --record), one row per
 * model, epoch, weights, context, clipping, n and seed, with the bound's terms summarised over t.
 */
import { existsSync, readFileSync } from "node:fs";
import { projectPath } from "../data/projectRoot";
import { writeFileAtomic } from "../train/atomicFile";
import type { VariationalBound } from "./likelihood";

/** One recorded likelihood measurement (a row of models/likelihood.json). */
export interface LikelihoodRecord {
  model: string;
  epoch: number | null;
  /** "ema" when the EMA of the weights was measured; absent for the trained weights. */
  weights?: "ema";
  variance: "fixed" | "learned";
  schedule: string;
  /** "none": the null context, -log p(x); "labels": each sprite's own class, -log p(x | y). */
  context: "none" | "labels";
  clipDenoised: boolean;
  n: number;
  seed: number;
  bitsPerDim: number;
  standardError: number | null;
  /** Mean terms in bits/dim: L_T, L_0, the KL terms summed over bands of t, and every t's (t = 1..T, 4 digits). */
  terms: { prior: number; decoder: number; bands: Array<{ from: number; to: number; bitsPerDim: number }>; byStep: number[] };
  seconds: number;
  backend: string;
  sprites: string;
  realSet: { dir: string; generator: string; fingerprint: string };
}

/** The per-t summary a record keeps: the KL terms summed over t = 2-9, 10-99, 100-999, ... (up to T). */
export function summariseTerms(bound: VariationalBound): LikelihoodRecord["terms"] {
  const T = bound.terms.length;
  const bands: LikelihoodRecord["terms"]["bands"] = [];
  for (let from = 2, to = 9; from <= T; from = to + 1, to = 10 * to + 9) {
    const last = Math.min(to, T);
    bands.push({ from, to: last, bitsPerDim: bound.terms.slice(from - 1, last).reduce((sum, s) => sum + s.bitsPerDim, 0) });
  }
  return { prior: bound.prior, decoder: bound.terms[0].bitsPerDim, bands, byStep: bound.terms.map((s) => Number(s.bitsPerDim.toPrecision(4))) };
}

export const LIKELIHOOD_FILE = "models/likelihood.json";
export const LIKELIHOOD_FORMAT = "sprite-diffusion-likelihood";

export interface LikelihoodFile {
  format: typeof LIKELIHOOD_FORMAT;
  results: LikelihoodRecord[];
}

/** Reads the recorded likelihoods (path relative to the project root); throws if there are none. */
export function readLikelihoods(path: string = LIKELIHOOD_FILE): LikelihoodFile {
  const file = projectPath(path);
  if (!existsSync(file)) throw new Error(`${file} does not exist: record likelihoods with \`npm run nll -- --checkpoint DIR --record ${path}\`.`);
  const contents = JSON.parse(readFileSync(file, "utf8")) as LikelihoodFile;
  if (contents.format !== LIKELIHOOD_FORMAT) throw new Error(`${file} is not a likelihood file (format "${contents.format}", expected "${LIKELIHOOD_FORMAT}").`);
  return contents;
}

const sameMeasurement = (a: LikelihoodRecord, b: LikelihoodRecord) =>
  a.model === b.model && a.epoch === b.epoch && (a.weights ?? "raw") === (b.weights ?? "raw") && a.context === b.context &&
  a.clipDenoised === b.clipDenoised && a.n === b.n && a.seed === b.seed;

/**
 * Appends `record` to the file (created if absent), written atomically; an earlier row of the same
 * model, epoch, weights, context, clipping, n and seed (the same numbers again) is replaced.
 */
export function recordLikelihood(path: string, record: LikelihoodRecord): LikelihoodFile {
  const file = projectPath(path);
  const previous = existsSync(file) ? readLikelihoods(path).results : [];
  const contents: LikelihoodFile = { format: LIKELIHOOD_FORMAT, results: [...previous.filter((r) => !sameMeasurement(r, record)), record] };
  writeFileAtomic(file, new TextEncoder().encode(JSON.stringify(contents, null, 2) + "\n"));
  return contents;
}
