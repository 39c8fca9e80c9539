/**
 * npm run set-frechet -- --set mnist|textures [--classifier DIR] [--n 1000] [--seed 0]
 * npm run set-frechet -- --checkpoint DIR [--sampler ddim --steps 25] [--weights auto] [--classifier DIR] [--n 1000] [--seed 0]
 *                         [--record models/evaluation.json] [--engine auto|onnx|tfjs]
 * Measures a 28x28 set's Frechet distance references with its classifier (default
 * models/classifier-<set>): the real-vs-real floor, two disjoint draws of n test images, and, as
 * a sanity check, n images of Gaussian noise clipped to [-1, 1] against the test images, which
 * must be far above the floor. The classifier's manifest records the same two numbers from
 * training time; this command re-measures them, e.g. at another n or seed.
 * With --checkpoint (a model trained with `npm run train -- --config FILE`, which names its set)
 * it draws n samples and measures their distance against the test images, beside the floor, the
 * classes the samples fall in and the classifier's confidence on them and on real test images;
 * --record merges that row into the evaluation file's 28x28 part (models/evaluation.json's imageSets).
 */
import { parseArgs } from "node:util";
import { describeBackend, initBackend } from "../lib/backend";
import type { ImageSetName } from "../lib/data/namedImageSets";
import { SAMPLER_NAMES } from "../lib/diffusion/samplers";
import { checkImageSetName, imageSetClassifierDir, loadImageSetClassifier } from "../lib/metrics/imageSetClassifier";
import { clippedNoiseImages, frechetAgainstTestSet } from "../lib/metrics/imageSetFrechet";
import { type ImageSetModelEvaluationOptions, evaluateImageSetModel } from "../lib/metrics/imageSetModelEvaluation";
import { projectPath } from "../lib/data/projectRoot";
import { recordImageSetEvaluation } from "../lib/metrics/evaluationFile";
import { parseWeightChoice } from "../lib/train/trainingCheckpoint";
import { ENGINE_OPTIONS, ENGINE_USAGE, checkOutputFile, choiceOption, engineOption, numberOption, rejectTogether, requirePartner } from "./arguments";
import { ProgressLine, progressBar } from "./progressLine";

const USAGE = `Usage: npm run set-frechet -- (--set NAME | --checkpoint DIR) [options]
  --set NAME        the 28x28 set: mnist or textures (floor and noise only)
  --checkpoint DIR  a model of a 28x28 set: its samples against the test images, beside the floor
  --sampler NAME    with --checkpoint: ${SAMPLER_NAMES.join(", ")} (default ddim)
  --steps N         with --checkpoint: sampler steps (default: DDIM 25, DDPM the schedule's T)
  --weights W       with --checkpoint: auto, ema or raw (default auto)
  --classifier DIR  the set's classifier (default models/classifier-NAME)
  --n N             images per draw (default 1000; the floor needs 2N test images)
  --seed N          seed of the draws, the noise and the samples (default 0)
  --record FILE     with --checkpoint: merge the row into FILE's 28x28 part (models/evaluation.json)
  with --checkpoint:
${ENGINE_USAGE}
                     (a row sampled on ONNX Runtime records engine "onnx", beside TensorFlow.js's)`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      set: { type: "string" },
      checkpoint: { type: "string" },
      sampler: { type: "string" },
      steps: { type: "string" },
      weights: { type: "string" },
      classifier: { type: "string" },
      n: { type: "string" },
      seed: { type: "string" },
      record: { type: "string" },
      ...ENGINE_OPTIONS,
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  rejectTogether(values, "checkpoint", ["set"]);
  if (values.set === undefined && values.checkpoint === undefined) throw new Error(`give --set or --checkpoint.\n${USAGE}`);
  for (const option of ["sampler", "steps", "weights", "engine", "onnx"]) requirePartner(values, option, "checkpoint", "it chooses how the checkpoint is sampled");
  requirePartner(values, "record", "checkpoint", "it records a checkpoint's row (the floor alone is in the classifier's manifest)");
  const n = numberOption(values.n, "n", { integer: true, min: 2 }) ?? 1000;
  const seed = numberOption(values.seed, "seed", { integer: true, min: 0 }) ?? 0;
  if (values.checkpoint !== undefined) {
    const sampler = choiceOption(values.sampler, "sampler", SAMPLER_NAMES) ?? "ddim";
    const steps = numberOption(values.steps, "steps", { integer: true, min: 1 }) ?? (sampler === "ddim" ? 25 : undefined);
    const weights = parseWeightChoice(values.weights ?? "auto");
    // --record is read and written relative to the project root, as recordImageSetEvaluation does.
    if (values.record !== undefined) checkOutputFile(projectPath(values.record), "--record", [".json"]);
    console.log(describeBackend(await initBackend()));
    const engine = engineOption(values);
    return measureCheckpoint({ checkpoint: values.checkpoint, n, seed, sampler, steps, weights, classifierDir: values.classifier, engine }, values.record);
  }
  const set = checkImageSetName(values.set!);
  console.log(describeBackend(await initBackend()));
  return measureSet(set, values.classifier ?? imageSetClassifierDir(set), n, seed);
}

/** A checkpoint's samples against the test images of its set, beside the floor. */
async function measureCheckpoint(options: Omit<ImageSetModelEvaluationOptions, "onStep" | "onEngine">, record?: string): Promise<void> {
  const log = new ProgressLine();
  const r = await evaluateImageSetModel({ ...options, onEngine: (reason) => log.log(`engine: ${reason}`), onStep: (s) => log.update(`sampling ${progressBar(s.step, s.steps)}`) });
  const percent = (v: number) => `${(100 * v).toFixed(1)} %`;
  log.log(
    `${r.checkpoint} (epoch ${r.epoch ?? "?"}, ${r.weights} weights), ${r.label}, ${r.set}, n = ${r.n}, seed ${r.seed}: sampled in ${r.samplingSeconds.toFixed(0)} s on ${r.backend}${r.engine === "onnx" ? " (the network on ONNX Runtime)" : ""}\n` +
      `  FD ${r.fd.toFixed(3)} against the test images (floor, real vs real at the same n: ${r.floor.toFixed(3)})\n` +
      `  classifier confidence: samples ${percent(r.meanConfidence.generated)}, real test images ${percent(r.meanConfidence.real)} (classifier ${r.classifier.dir})\n` +
      `  classes drawn: ${r.classNames.map((name, k) => `${name} ${percent(r.classShares[k])}`).join(", ")}`,
  );
  if (record !== undefined) {
    recordImageSetEvaluation(record, r);
    log.log(`recorded in ${record}`);
  }
}

/** The set's floor and the distance of clipped noise, with the set's classifier from `dir`. */
async function measureSet(set: ImageSetName, dir: string, n: number, seed: number): Promise<void> {
  const started = Date.now();
  const { classifier, manifest } = loadImageSetClassifier(set, dir);
  try {
    console.log(`classifier ${dir}: test accuracy ${(100 * manifest.heldOutScore.accuracy).toFixed(2)} %`);
    const noise = clippedNoiseImages(set, n, seed);
    const report = await frechetAgainstTestSet(classifier, noise, set, seed).finally(() => noise.dispose());
    console.log(`${set}, n = ${n}, seed ${seed}: real vs real (floor) ${report.floor.toFixed(3)}; clipped Gaussian noise vs real ${report.fd.toFixed(1)} ` +
      `(${((Date.now() - started) / 1000).toFixed(0)} s)`);
  } finally {
    classifier.dispose();
  }
}

main().catch((error) => {
  console.error(`set-frechet: ${(error as Error).message}`);
  process.exit(1);
});
