/**
 * models/evaluation.json: the recorded evaluations of the shipped models, one entry per model,
 * sampler, step count and eta, so a lesson can show the numbers without sampling 1000 sprites itself.
 */
import { existsSync, readFileSync } from "node:fs";
import { projectPath } from "../data/projectRoot";
import { writeFileAtomic } from "../train/atomicFile";
import type { ModelEvaluation } from "./modelEvaluation";

export const EVALUATION_FILE = "models/evaluation.json";
export const EVALUATION_FORMAT = "sprite-diffusion-evaluation";

export interface EvaluationFile {
  format: typeof EVALUATION_FORMAT;
  /** The classifier that measured them. */
  classifier: { dir: string; heldOutAccuracy: number; createdAt: string };
  results: ModelEvaluation[];
}

/** Reads the recorded evaluations (path relative to the project root); throws if there are none. */
export function readEvaluations(path: string = EVALUATION_FILE): EvaluationFile {
  const file = projectPath(path);
  if (!existsSync(file)) throw new Error(`${file} does not exist: record evaluations with \`npm run evaluate -- --checkpoint DIR --record ${path}\`.`);
  const contents = JSON.parse(readFileSync(file, "utf8")) as EvaluationFile;
  if (contents.format !== EVALUATION_FORMAT) throw new Error(`${file} is not an evaluation file (format "${contents.format}", expected "${EVALUATION_FORMAT}").`);
  return contents;
}

/** Whether two results are of the same model, sampler, step count and eta (absent eta = 0). */
const sameRun = (a: ModelEvaluation, b: Pick<ModelEvaluation, "model" | "sampler" | "steps" | "eta">) =>
  a.model === b.model && a.sampler === b.sampler && a.steps === b.steps && (a.eta ?? 0) === (b.eta ?? 0);

/** The recorded result for a model folder, sampler, step count and eta (DDIM only; default 0), or undefined. */
export function findEvaluation(file: EvaluationFile, model: string, sampler: ModelEvaluation["sampler"], steps: number, eta = 0): ModelEvaluation | undefined {
  return file.results.find((r) => sameRun(r, { model, sampler, steps, eta }));
}

/** Adds `result` to the file (created if absent), replacing an earlier one for the same model, sampler, steps and eta. */
export function recordEvaluation(path: string, result: ModelEvaluation, classifier: EvaluationFile["classifier"]): EvaluationFile {
  const file = projectPath(path);
  const previous = existsSync(file) ? readEvaluations(path) : null;
  const kept = (previous?.results ?? []).filter((r) => !sameRun(r, result));
  const results = [...kept, result].sort((a, b) => a.model.localeCompare(b.model) || a.sampler.localeCompare(b.sampler) || a.steps - b.steps || (a.eta ?? 0) - (b.eta ?? 0));
  const contents: EvaluationFile = { format: EVALUATION_FORMAT, classifier, results };
  writeFileAtomic(file, new TextEncoder().encode(JSON.stringify(contents, null, 2) + "\n"));
  return contents;
}
