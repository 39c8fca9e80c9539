/**
 * models/editing-evaluation.json: the recorded inpainting measurements, one entry per model, mask,
 * method, sampler, RePaint jumps, n and seed, so lesson 07 can quote them without re-running.
 */
import { existsSync, readFileSync } from "node:fs";
import { projectPath } from "../data/projectRoot";
import { writeFileAtomic } from "../train/atomicFile";
import type { InpaintingEvaluation } from "./inpaintingEvaluation";

export const EDITING_EVALUATION_FILE = "models/editing-evaluation.json";
export const EDITING_EVALUATION_FORMAT = "sprite-diffusion-editing-evaluation";

export interface EditingEvaluationFile {
  format: typeof EDITING_EVALUATION_FORMAT;
  /** The sprite classifier that measured them (class agreement and SFD features). */
  classifier: { dir: string; heldOutAccuracy: number; createdAt: string };
  results: InpaintingEvaluation[];
}

/** Reads the recorded measurements (path relative to the project root); throws if there are none. */
export function readEditingEvaluations(path: string = EDITING_EVALUATION_FILE): EditingEvaluationFile {
  const file = projectPath(path);
  if (!existsSync(file)) throw new Error(`${file} does not exist: record measurements with \`npm run evaluate-editing -- --checkpoint DIR --record ${path}\`.`);
  const contents = JSON.parse(readFileSync(file, "utf8")) as EditingEvaluationFile;
  if (contents.format !== EDITING_EVALUATION_FORMAT) throw new Error(`${file} is not an editing evaluation file (format "${contents.format}", expected "${EDITING_EVALUATION_FORMAT}").`);
  return contents;
}

/** The identity of a measurement: everything but its numbers. */
const runKey = (r: InpaintingEvaluation) => JSON.stringify([r.model, r.weights ?? "raw", r.mask, r.method, r.sampler, r.repaint?.jumpLength ?? null, r.repaint?.resamplings ?? null, r.n, r.seed]);

/** The recorded measurements of one model and mask, in the file's order. */
export function editingResults(file: EditingEvaluationFile, model: string, mask: string): InpaintingEvaluation[] {
  return file.results.filter((r) => r.model === model && r.mask === mask);
}

/** Adds `result` (created if absent), replacing an earlier one of the same run; sorted by model, mask, then cost. */
export function recordEditingEvaluation(path: string, result: InpaintingEvaluation, classifier: EditingEvaluationFile["classifier"]): EditingEvaluationFile {
  const file = projectPath(path);
  const previous = existsSync(file) ? readEditingEvaluations(path) : null;
  const kept = (previous?.results ?? []).filter((r) => runKey(r) !== runKey(result));
  const results = [...kept, result].sort((a, b) => a.model.localeCompare(b.model) || a.mask.localeCompare(b.mask) || a.modelEvaluations - b.modelEvaluations || runKey(a).localeCompare(runKey(b)));
  const contents: EditingEvaluationFile = { format: EDITING_EVALUATION_FORMAT, classifier, results };
  writeFileAtomic(file, new TextEncoder().encode(JSON.stringify(contents, null, 2) + "\n"));
  return contents;
}
