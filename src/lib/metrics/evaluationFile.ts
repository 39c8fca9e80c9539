/**
 * models/evaluation.json: the recorded evaluations of the shipped models, one entry per model,
 * sampler, step count, eta and guidance (w, and classifier guidance's scale and classifier), so a
 * lesson can show the numbers without sampling 1000 sprites itself. Its `imageSets` part holds the
 * 28x28 models' rows (`npm run set-frechet -- --checkpoint DIR --record FILE`), each measured with
 * its set's own classifier, one entry per model, weights, sampler, step count, eta and clipping.
 * Its `promptMatch` part holds the text models' rows (promptMatchEvaluation.ts): whether their
 * sprites show the kind and colour their prompts name, read by the attribute classifiers; its
 * `inversion` part, textual inversion's (inversionMatch.ts): whether a learnt word draws its kind;
 * its `ardm` part, the autoregressive models' SFD and time at k variables per call (ardmEvaluation.ts).
 */
import { existsSync, readFileSync } from "node:fs";
import { projectPath } from "../data/projectRoot";
import { writeFileAtomic } from "../train/atomicFile";
import type { ImageSetModelEvaluation } from "./imageSetModelEvaluation";
import type { ArdmEvaluation } from "./ardmEvaluation";
import type { InversionEvaluation } from "./inversionMatch";
import type { ModelEvaluation } from "./modelEvaluation";
import type { PromptMatchEvaluation } from "./promptMatchEvaluation";

export const EVALUATION_FILE = "models/evaluation.json";
export const EVALUATION_FORMAT = "sprite-diffusion-evaluation";

export interface EvaluationFile {
  format: typeof EVALUATION_FORMAT;
  /** The classifier that measured them. */
  classifier: { dir: string; heldOutAccuracy: number; createdAt: string };
  results: ModelEvaluation[];
  /** The 28x28 models' rows (absent until one is recorded). */
  imageSets?: ImageSetModelEvaluation[];
  /** The text models' prompt-match rows (`npm run evaluate-text -- --checkpoint DIR --record FILE`; absent until one is recorded). */
  promptMatch?: PromptMatchEvaluation[];
  /** Textual inversion's rows (`npm run evaluate-inversion -- --checkpoint DIR --record FILE`): does the learnt word draw its kind? */
  inversion?: InversionEvaluation[];
  /** The ARDMs' rows (`npm run evaluate-ardm -- --checkpoint DIR --k K --record FILE`): SFD and time at k variables per call. */
  ardm?: ArdmEvaluation[];
}

/** Reads the recorded evaluations (path relative to the project root); throws if there are none. */
export function readEvaluations(path: string = EVALUATION_FILE): EvaluationFile {
  const file = projectPath(path);
  if (!existsSync(file)) throw new Error(`${file} does not exist: record evaluations with \`npm run evaluate -- --checkpoint DIR --record ${path}\`.`);
  const contents = JSON.parse(readFileSync(file, "utf8")) as EvaluationFile;
  if (contents.format !== EVALUATION_FORMAT) throw new Error(`${file} is not an evaluation file (format "${contents.format}", expected "${EVALUATION_FORMAT}").`);
  return contents;
}

/** How a recorded run was guided (absent: not at all), as ModelEvaluation records it. */
export type RecordedGuidance = Pick<ModelEvaluation, "guidance" | "classifierGuidance" | "weights">;

type RunKey = Pick<ModelEvaluation, "model" | "sampler" | "steps" | "eta" | "clipDenoised" | "engine"> & RecordedGuidance;

/**
 * Whether two results are of the same model and weights, sampler, step count, eta, clipping,
 * guidance and engine (absent eta, w, s = 0; absent weights = raw; absent clipDenoised = unclipped;
 * absent engine = TensorFlow.js, so an ONNX row sits beside the TensorFlow.js row of the same run).
 */
const sameRun = (a: RunKey, b: RunKey) =>
  a.model === b.model &&
  (a.weights ?? "raw") === (b.weights ?? "raw") &&
  a.sampler === b.sampler &&
  a.steps === b.steps &&
  (a.eta ?? 0) === (b.eta ?? 0) &&
  (a.clipDenoised ?? false) === (b.clipDenoised ?? false) &&
  (a.guidance ?? 0) === (b.guidance ?? 0) &&
  (a.classifierGuidance?.scale ?? 0) === (b.classifierGuidance?.scale ?? 0) &&
  (a.classifierGuidance?.classifier ?? "") === (b.classifierGuidance?.classifier ?? "") &&
  (a.engine ?? "tfjs") === (b.engine ?? "tfjs");

/**
 * The recorded result for a model folder, sampler, step count, eta (DDIM only; default 0),
 * guidance (default none), weights ({ weights: "ema" }, as LoadedModel.weights says; default "raw") and clipping
 * ({ clipDenoised: true }; default unclipped), or undefined.
 */
export function findEvaluation(
  file: EvaluationFile,
  model: string,
  sampler: ModelEvaluation["sampler"],
  steps: number,
  eta = 0,
  guidance: Omit<RecordedGuidance, "weights"> & Pick<ModelEvaluation, "clipDenoised"> & { weights?: "ema" | "raw" } = {},
): ModelEvaluation | undefined {
  const { weights, ...rest } = guidance;
  return file.results.find((r) => sameRun(r, { model, sampler, steps, eta, ...rest, ...(weights === "ema" ? { weights } : {}) }));
}

/** The order of the file: model, weights, sampler, steps, eta, clipping, w, then classifier guidance's classifier and scale. */
const byRun = (a: ModelEvaluation, b: ModelEvaluation) =>
  a.model.localeCompare(b.model) ||
  (a.weights ?? "raw").localeCompare(b.weights ?? "raw") ||
  a.sampler.localeCompare(b.sampler) ||
  a.steps - b.steps ||
  (a.eta ?? 0) - (b.eta ?? 0) ||
  Number(a.clipDenoised ?? false) - Number(b.clipDenoised ?? false) ||
  (a.guidance ?? 0) - (b.guidance ?? 0) ||
  (a.classifierGuidance?.classifier ?? "").localeCompare(b.classifierGuidance?.classifier ?? "") ||
  (a.classifierGuidance?.scale ?? 0) - (b.classifierGuidance?.scale ?? 0) ||
  (a.engine ?? "").localeCompare(b.engine ?? "");

/** Adds `result` to the file (created if absent), replacing an earlier one for the same model, sampler, steps, eta, clipping and guidance. */
export function recordEvaluation(path: string, result: ModelEvaluation, classifier: EvaluationFile["classifier"]): EvaluationFile {
  const file = projectPath(path);
  const previous = existsSync(file) ? readEvaluations(path) : null;
  const kept = (previous?.results ?? []).filter((r) => !sameRun(r, result));
  const results = [...kept, result].sort(byRun);
  const contents: EvaluationFile = { ...previous, format: EVALUATION_FORMAT, classifier, results };
  writeFileAtomic(file, new TextEncoder().encode(JSON.stringify(contents, null, 2) + "\n"));
  return contents;
}

/** The file's parts other than `results`, each a list of rows of one kind of measurement. */
type PartName = "imageSets" | "promptMatch" | "inversion" | "ardm";
type PartRow<P extends PartName> = NonNullable<EvaluationFile[P]>[number];

/** The fields that make a row's run, per part, in the order the part's rows are sorted by. */
const RUN_FIELDS: { [P in PartName]: readonly (keyof PartRow<P>)[] } = {
  imageSets: ["checkpoint", "weights", "sampler", "steps", "eta", "clipDenoised", "engine"],
  promptMatch: ["checkpoint", "weights", "sampler", "steps", "eta", "clipDenoised", "guidance", "perPrompt", "seed"],
  inversion: ["checkpoint", "sampler", "steps", "eta", "clipDenoised", "guidance", "n", "seed"],
  ardm: ["checkpoint", "weights", "k", "n", "seed", "batch", "engine"],
};

/** Whether two rows of a part are of the same run: equal in every run field (an absent engine is TensorFlow.js's). */
function sameRunOf<P extends PartName>(part: P, a: PartRow<P>, b: PartRow<P>): boolean {
  return RUN_FIELDS[part].every((field) => a[field] === b[field]);
}

/** Orders two rows of a part by its run fields: text alphabetically (absent first), numbers and flags by value. */
function runOrder<P extends PartName>(part: P, a: PartRow<P>, b: PartRow<P>): number {
  for (const field of RUN_FIELDS[part]) {
    const x: unknown = a[field];
    const y: unknown = b[field];
    if (x === y) continue;
    return typeof x === "string" || typeof y === "string" ? String(x ?? "").localeCompare(String(y ?? "")) : Number(x ?? 0) - Number(y ?? 0);
  }
  return 0;
}

/** The recorded row of `part` of the same run as `key`, or undefined. */
function findRow<P extends PartName>(file: EvaluationFile, part: P, key: PartRow<P>): PartRow<P> | undefined {
  return ((file[part] ?? []) as PartRow<P>[]).find((r) => sameRunOf(part, r, key));
}

/** Adds `row` to `part` of the file (which must exist), replacing an earlier row of the same run; rows sorted by their run fields. */
function recordRow<P extends PartName>(path: string, part: P, row: PartRow<P>): EvaluationFile {
  const previous = readEvaluations(path);
  const rows = [...((previous[part] ?? []) as PartRow<P>[]).filter((r) => !sameRunOf(part, r, row)), row].sort((a, b) => runOrder(part, a, b));
  const contents: EvaluationFile = { ...previous, [part]: rows };
  writeFileAtomic(projectPath(path), new TextEncoder().encode(JSON.stringify(contents, null, 2) + "\n"));
  return contents;
}

type ImageSetRunKey = Pick<ImageSetModelEvaluation, "checkpoint" | "weights" | "sampler" | "steps" | "eta" | "clipDenoised" | "engine">;

/** The recorded row of a 28x28 model (its checkpoint folder as recorded, e.g. "models/mnist") for these weights and sampler, or undefined. */
export function findImageSetEvaluation(file: EvaluationFile, key: ImageSetRunKey): ImageSetModelEvaluation | undefined {
  return findRow(file, "imageSets", key as ImageSetModelEvaluation);
}

/** Adds a 28x28 model's row to the file's `imageSets` (the file must exist: it holds the sprite models' classifier), replacing an earlier row of the same run. */
export function recordImageSetEvaluation(path: string, result: ImageSetModelEvaluation): EvaluationFile {
  return recordRow(path, "imageSets", result);
}

type PromptMatchRunKey = Pick<PromptMatchEvaluation, "checkpoint" | "weights" | "sampler" | "steps" | "eta" | "clipDenoised" | "guidance" | "perPrompt" | "seed">;

/** The recorded prompt-match row of a text checkpoint for these weights, sampler, guidance, count and seed, or undefined. */
export function findPromptMatchEvaluation(file: EvaluationFile, key: PromptMatchRunKey): PromptMatchEvaluation | undefined {
  return findRow(file, "promptMatch", key as PromptMatchEvaluation);
}

/** Adds a text model's prompt-match row to the file's `promptMatch` (the file must exist), replacing an earlier row of the same run. */
export function recordPromptMatchEvaluation(path: string, result: PromptMatchEvaluation): EvaluationFile {
  return recordRow(path, "promptMatch", result);
}

/** Adds an inverted checkpoint's row to the file's `inversion` part (the file must exist), replacing an earlier row of the same run. */
export function recordInversionEvaluation(path: string, result: InversionEvaluation): EvaluationFile {
  return recordRow(path, "inversion", result);
}

type ArdmRunKey = Pick<ArdmEvaluation, "checkpoint" | "weights" | "k" | "n" | "seed" | "batch" | "engine">;

/** The recorded ARDM row for this checkpoint, weights, k, n, seed, batch and engine (absent: TensorFlow.js), or undefined. */
export function findArdmEvaluation(file: EvaluationFile, key: ArdmRunKey): ArdmEvaluation | undefined {
  return findRow(file, "ardm", key as ArdmEvaluation);
}

/** Adds an ARDM's row to the file's `ardm` part (the file must exist), replacing an earlier row of the same run. */
export function recordArdmEvaluation(path: string, result: ArdmEvaluation): EvaluationFile {
  return recordRow(path, "ardm", result);
}
