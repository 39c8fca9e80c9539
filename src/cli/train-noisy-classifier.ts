/**
 * npm run train-noisy-classifier -- [--out models/noisy-classifier] [--epochs 16] [--batch 128] [--lr 2e-3] [--seed 0] [--sprites DIR]
 * Trains the noisy-sprite classifier p(y | x_t, t) that classifier guidance steers with, on the
 * training part of the sprite set (the metric classifier's split) noised to steps t uniform in
 * 0..T of the course's schedule; scores it on the held-out base sprites per band of steps, prints
 * the table, and saves its weights, manifest and training-log.md.
 */
import { writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { parseArgs } from "node:util";
import * as tf from "@tensorflow/tfjs-core";
import { describeBackend, initBackend } from "../lib/backend";
import { PROJECT_ROOT, projectPath } from "../lib/data/projectRoot";
import { SPRITE_CLASS_NAMES } from "../lib/data/sprites/classes";
import { COURSE_SCHEDULE_CONFIG, courseSchedule } from "../lib/diffusion/schedule";
import { NoisySpriteClassifier } from "../lib/guidance/noisyClassifier";
import { DEFAULT_NOISY_CLASSIFIER_DIR, saveNoisyClassifier } from "../lib/guidance/noisyClassifierFile";
import {
  DEFAULT_NOISY_CLASSIFIER_TRAINING,
  type NoisyClassifierEpochReport,
  type TBandAccuracy,
  accuracyPerTBand,
  trainNoisyClassifier,
} from "../lib/guidance/noisyClassifierTraining";
import { formatDuration } from "../lib/notebook/progress";
import { CLASSIFIER_SPLIT, heldOutRealSprites, realSpriteSet } from "../lib/metrics/realSprites";
import { checkOutputFolder, numberOption } from "./arguments";
import { ProgressLine, progressBar } from "./progressLine";

const D = DEFAULT_NOISY_CLASSIFIER_TRAINING;
const USAGE = `Usage: npm run train-noisy-classifier -- [options]
  --out DIR      where to save the classifier (default ${DEFAULT_NOISY_CLASSIFIER_DIR})
  --epochs N     passes over the training part (default ${D.epochs})
  --batch N      batch size (default ${D.batchSize})
  --lr X         peak learning rate, decayed linearly to 0 (default ${D.learningRate})
  --seed N       seed of the initialisation, batch order, steps t and noise (default ${D.seed})
  --sprites DIR  sprite set folder with its manifest.json (default the project's, data/sprites)
  --help         this text`;

/** Seed of the held-out scoring draws (fixed, so every saved model is scored on the same noise). */
const SCORE_SEED = 0;

/** The per-band accuracy as aligned text. */
export function formatBands(bands: TBandAccuracy[]): string {
  const rows = bands.map((b) => `${`${b.from}-${b.to}`.padEnd(10)}${(100 * b.accuracy).toFixed(2).padStart(9)} %${String(b.count).padStart(9)}`);
  return [`${"t band".padEnd(10)}${"accuracy".padStart(11)}${"sprites".padStart(9)}`, ...rows].join("\n");
}

interface LogInputs {
  command: string;
  data: string;
  history: NoisyClassifierEpochReport[];
  bands: TBandAccuracy[];
  seconds: number;
  backend: string;
  parameterCount: number;
}

/** training-log.md beside the weights. */
function writeTrainingLog(out: string, log: LogInputs): void {
  const text = [
    `# Training log: noisy-sprite classifier`,
    ``,
    `- command: \`${log.command}\``,
    `- model: NoisySpriteClassifier, ${log.parameterCount} parameters; backend ${log.backend}; tfjs ${tf.version_core}`,
    `- data: ${log.data}`,
    `- noising: course schedule (T = ${courseSchedule.T}, beta ${COURSE_SCHEDULE_CONFIG.betaStart} to ${COURSE_SCHEDULE_CONFIG.betaEnd}), t uniform in 0..T per sprite`,
    `- wall time: ${formatDuration(log.seconds)} (${log.seconds.toFixed(0)} s) training and scoring`,
    ``,
    `| epoch | mean loss | train accuracy (noisy) | seconds |`,
    `|---:|---:|---:|---:|`,
    ...log.history.map((h) => `| ${h.epoch} | ${h.meanLoss.toFixed(4)} | ${(100 * h.trainAccuracy).toFixed(2)} % | ${h.seconds.toFixed(0)} |`),
    ``,
    `Held-out accuracy per band of steps (each held-out sprite once per band, t uniform in the band, seed ${SCORE_SEED}):`,
    ``,
    `| t band | accuracy | sprites |`,
    `|---|---:|---:|`,
    ...log.bands.map((b) => `| ${b.from}-${b.to} | ${(100 * b.accuracy).toFixed(2)} % | ${b.count} |`),
    ``,
  ].join("\n");
  writeFileSync(join(out, "training-log.md"), text);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      out: { type: "string", default: DEFAULT_NOISY_CLASSIFIER_DIR },
      epochs: { type: "string" },
      batch: { type: "string" },
      lr: { type: "string" },
      seed: { type: "string" },
      sprites: { type: "string" },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const config = {
    epochs: numberOption(values.epochs, "epochs", { integer: true, min: 1 }) ?? D.epochs,
    batchSize: numberOption(values.batch, "batch", { integer: true, min: 1 }) ?? D.batchSize,
    learningRate: numberOption(values.lr, "lr", { min: 0 }) ?? D.learningRate,
    seed: numberOption(values.seed, "seed", { integer: true, min: 0 }) ?? D.seed,
  };
  const out = projectPath(values.out!);
  checkOutputFolder(out, "--out");
  const started = Date.now();
  const backend = await initBackend();
  const log = new ProgressLine();
  log.log(describeBackend(backend));

  const real = realSpriteSet(values.sprites);
  const { train, heldOut } = real.split;
  const dataLine = `${real.dataset.count} sprites from ${relative(PROJECT_ROOT, real.dir) || "."} (${real.generator}, fingerprint ${real.fingerprint}); ` +
    `training on ${train.length}, holding out ${heldOut.length} (${heldOut.length / real.variantsPerBase} whole base sprites)`;
  log.log(`data: ${dataLine}`);

  const classifier = new NoisySpriteClassifier({}, config.seed);
  log.log(`noisy classifier: ${classifier.parameterCount} parameters`);
  let stop = false;
  process.on("SIGINT", () => {
    if (stop) process.exit(130);
    stop = true;
    log.log("stopping after this step (nothing is saved)");
  });
  const history = await trainNoisyClassifier(classifier, real.dataset, train, config, {
    shouldStop: () => stop,
    onStep: (r) => log.update(`epoch ${r.epoch + 1}/${config.epochs} ${progressBar(r.step, r.steps)} loss ${r.loss.toFixed(4)} lr ${r.learningRate.toExponential(2)}`),
    onEpoch: (r) => log.log(`epoch ${r.epoch} done: mean loss ${r.meanLoss.toFixed(4)}, train accuracy ${(100 * r.trainAccuracy).toFixed(2)} % (noisy), ${r.seconds.toFixed(0)} s`),
  });
  if (stop) {
    classifier.dispose();
    process.exit(130);
  }

  const sprites = heldOutRealSprites(heldOut.length, SCORE_SEED, 0, real);
  const bands = await accuracyPerTBand(classifier, sprites, undefined, SCORE_SEED);
  tf.dispose([sprites.images, sprites.labels]);
  log.log(`held-out accuracy per band of steps (${heldOut.length} sprites of unseen base sprites, noised once per band):`);
  log.log(formatBands(bands));
  const seconds = (Date.now() - started) / 1000;
  await saveNoisyClassifier(values.out!, classifier, {
    classNames: SPRITE_CLASS_NAMES,
    data: { source: relative(PROJECT_ROOT, real.dir), generator: real.generator, fingerprint: real.fingerprint, count: real.dataset.count, variantsPerBase: real.variantsPerBase },
    split: { ...CLASSIFIER_SPLIT, groupSize: real.variantsPerBase, trainCount: train.length, heldOutCount: heldOut.length },
    schedule: { ...COURSE_SCHEDULE_CONFIG },
    training: { config, history, backend: backend.name, seconds },
    heldOutAccuracy: { seed: SCORE_SEED, bands },
  });
  const command = `npm run train-noisy-classifier${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(" ")}` : ""}`;
  writeTrainingLog(out, { command, data: dataLine, history, bands, seconds, backend: backend.name, parameterCount: classifier.parameterCount });
  log.log(`saved to ${out} in ${formatDuration(seconds)}`);
  classifier.dispose();
}

main().catch((error) => {
  console.error(`train-noisy-classifier: ${(error as Error).message}`);
  process.exit(1);
});
