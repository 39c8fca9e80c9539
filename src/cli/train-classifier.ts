/**
 * npm run train-classifier -- [--set mnist|textures] [--out DIR] [--epochs 3] [--batch 128] [--lr 2e-3] [--seed 0]
 * Trains the sprite classifier (the instrument of context accuracy and SFD) on the training part of
 * the project's sprite set, scores it on the held-out base sprites it never saw, prints the
 * confusion matrix, and saves its weights and manifest.
 * With --set it trains the same classifier, configured for that 28x28 set, on the set's train part
 * (all of it, or a seeded --subset), scores it on the test part, measures the set's Frechet-distance
 * floor (two disjoint test draws of --fd-n) and the distance of clipped noise, and saves all of it
 * in models/classifier-<set>.
 */
import { relative } from "node:path";
import { parseArgs } from "node:util";
import { type BackendChoice, describeBackend, initBackend } from "../lib/backend";
import { epochOrder } from "../lib/data/batches";
import { fingerprint } from "../lib/data/dataset";
import { readImageSetManifest } from "../lib/data/imageSetFiles";
import { IMAGE_SETS, type ImageSetName } from "../lib/data/namedImageSets";
import { SPRITE_CLASS_NAMES } from "../lib/data/sprites/classes";
import { deriveSeed } from "../lib/data/sprites/prng";
import { SpriteClassifier } from "../lib/metrics/classifier";
import { DEFAULT_CLASSIFIER_DIR, saveClassifier } from "../lib/metrics/classifierFile";
import { type ClassifierTrainConfig, DEFAULT_CLASSIFIER_TRAINING, type ClassifierScore, scoreClassifier, trainClassifier } from "../lib/metrics/classifierTraining";
import { IMAGE_SET_NAMES, checkImageSetName, imageSetClassifierConfig, imageSetClassifierDir, imageSetPart } from "../lib/metrics/imageSetClassifier";
import { clippedNoiseImages, frechetAgainstTestSet } from "../lib/metrics/imageSetFrechet";
import { PROJECT_ROOT, projectPath } from "../lib/data/projectRoot";
import { CLASSIFIER_SPLIT, realSpriteSet } from "../lib/metrics/realSprites";
import { checkOutputFolder, numberOption, requirePartner } from "./arguments";
import { ProgressLine, progressBar } from "./progressLine";

const USAGE = `Usage: npm run train-classifier -- [options]
  --set NAME     train the classifier of a 28x28 set instead of the sprites': ${IMAGE_SET_NAMES.join(", ")}
  --out DIR      where to save the classifier (default ${DEFAULT_CLASSIFIER_DIR}; with --set, models/classifier-NAME)
  --epochs N     passes over the training part (default ${DEFAULT_CLASSIFIER_TRAINING.epochs})
  --batch N      batch size (default ${DEFAULT_CLASSIFIER_TRAINING.batchSize})
  --lr X         peak learning rate, decayed linearly to 0 (default ${DEFAULT_CLASSIFIER_TRAINING.learningRate})
  --seed N       seed of the initialisation and batch order (default ${DEFAULT_CLASSIFIER_TRAINING.seed})
  --subset N     with --set: train on N images of the train part, chosen by --seed (default all)
  --fd-n N       with --set: test images per draw of the Frechet-distance floor (default 1000; needs 2N)
  --fd-seed N    with --set: seed of the floor's draws (default 0)`;

/** The confusion matrix as aligned text, rows = true class, columns = predicted. */
export function formatConfusion(score: ClassifierScore, names: readonly string[] = SPRITE_CLASS_NAMES): string {
  const width = Math.max(...names.map((n) => n.length), ...score.confusion.flat().map((v) => String(v).length)) + 2;
  const header = `${"true \\ predicted".padEnd(width)}${names.map((n) => n.padStart(width)).join("")}${"recall".padStart(9)}`;
  const rows = score.confusion.map(
    (row, c) => `${names[c].padEnd(width)}${row.map((v) => String(v).padStart(width)).join("")}${(100 * score.perClassAccuracy[c]).toFixed(2).padStart(8)}%`,
  );
  return [header, ...rows].join("\n");
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      out: { type: "string" },
      epochs: { type: "string", default: String(DEFAULT_CLASSIFIER_TRAINING.epochs) },
      batch: { type: "string", default: String(DEFAULT_CLASSIFIER_TRAINING.batchSize) },
      lr: { type: "string", default: String(DEFAULT_CLASSIFIER_TRAINING.learningRate) },
      seed: { type: "string", default: String(DEFAULT_CLASSIFIER_TRAINING.seed) },
      set: { type: "string" },
      subset: { type: "string" },
      "fd-n": { type: "string" },
      "fd-seed": { type: "string" },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const config = { epochs: Number(values.epochs), batchSize: Number(values.batch), learningRate: Number(values.lr), seed: Number(values.seed) };
  for (const [name, value] of Object.entries(config)) {
    if (!Number.isFinite(value) || value < 0) throw new Error(`--${name} must be a non-negative number, got ${value}.\n${USAGE}`);
  }
  for (const option of ["subset", "fd-n", "fd-seed"]) requirePartner(values, option, "set", "it applies to a 28x28 set's classifier only");
  const set = values.set === undefined ? undefined : checkImageSetName(values.set);
  const out = values.out ?? (set !== undefined ? imageSetClassifierDir(set) : DEFAULT_CLASSIFIER_DIR);
  const measure = { subset: numberOption(values.subset, "subset", { integer: true, min: 2 }), n: numberOption(values["fd-n"], "fd-n", { integer: true, min: 2 }) ?? 1000, seed: numberOption(values["fd-seed"], "fd-seed", { integer: true, min: 0 }) ?? 0 };
  // Saved relative to the project root, as saveClassifier does.
  checkOutputFolder(projectPath(out), "--out");
  const backend = await initBackend();
  const log = new ProgressLine();
  log.log(describeBackend(backend));
  if (set !== undefined) return trainSetClassifier(set, out, config, measure, backend, log);

  const real = realSpriteSet();
  const { train, heldOut } = real.split;
  log.log(`data: ${real.dataset.count} sprites from ${real.dir} (${real.generator}); training on ${train.length}, ` +
    `holding out ${heldOut.length} (${heldOut.length / real.variantsPerBase} whole base sprites)`);

  const classifier = new SpriteClassifier({}, config.seed);
  log.log(`classifier: ${classifier.parameterCount} parameters`);
  const history = await trainShowingProgress(classifier, real.dataset, train, config, log);

  const score = await scoreClassifier(classifier, real.dataset, heldOut);
  log.log(`held-out accuracy: ${(100 * score.accuracy).toFixed(2)} % on ${score.count} sprites of unseen base sprites`);
  log.log(formatConfusion(score));
  await saveClassifier(out, classifier, {
    classNames: SPRITE_CLASS_NAMES,
    data: { source: relative(PROJECT_ROOT, real.dir), generator: real.generator, fingerprint: real.fingerprint, count: real.dataset.count, variantsPerBase: real.variantsPerBase },
    split: { ...CLASSIFIER_SPLIT, groupSize: real.variantsPerBase, trainCount: train.length, heldOutCount: heldOut.length },
    training: { config, history, backend: backend.name },
    heldOutScore: score,
  });
  log.log(`saved to ${projectPath(out)}`);
  classifier.dispose();
}

/**
 * trainClassifier with a progress line per step and a line per epoch; a Ctrl-C stops it after the
 * current step and exits without saving (a second one at once).
 */
async function trainShowingProgress(
  classifier: SpriteClassifier,
  dataset: Parameters<typeof trainClassifier>[1],
  indices: Parameters<typeof trainClassifier>[2],
  config: ClassifierTrainConfig,
  log: ProgressLine,
): Promise<Awaited<ReturnType<typeof trainClassifier>>> {
  const stop = stopOnInterrupt(log);
  const history = await trainClassifier(classifier, dataset, indices, config, {
    shouldStop: stop,
    onStep: (r) => log.update(`epoch ${r.epoch + 1}/${config.epochs} ${progressBar(r.step, r.steps)} loss ${r.loss.toFixed(4)} lr ${r.learningRate.toExponential(2)}`),
    onEpoch: (r) => log.log(`epoch ${r.epoch} done: mean loss ${r.meanLoss.toFixed(4)}, train accuracy ${(100 * r.trainAccuracy).toFixed(2)} %, ${r.seconds.toFixed(0)} s`),
  });
  if (stop()) {
    classifier.dispose();
    process.exit(130);
  }
  return history;
}

/** Asks to stop at the next step on the first Ctrl-C, exits on the second; returns the flag. */
function stopOnInterrupt(log: ProgressLine): () => boolean {
  let stop = false;
  process.on("SIGINT", () => {
    if (stop) process.exit(130);
    stop = true;
    log.log("stopping after this step (nothing is saved)");
  });
  return () => stop;
}

/** The --set path: train on the set's train part, score on its test part, measure its floor, save. */
async function trainSetClassifier(
  set: ImageSetName,
  out: string,
  config: ClassifierTrainConfig,
  measure: { subset?: number; n: number; seed: number },
  backend: BackendChoice,
  log: ProgressLine,
): Promise<void> {
  const started = Date.now();
  const train = imageSetPart(set, "train");
  const test = imageSetPart(set, "test");
  if (2 * measure.n > test.count) throw new Error(`--fd-n ${measure.n}: the floor needs two disjoint draws, 2 x ${measure.n}, but the ${set} test part has ${test.count}.`);
  const size = Math.min(measure.subset ?? train.count, train.count);
  // A seeded subset, kept in file order so batches shuffle it as they would the whole part.
  const indices = Int32Array.from(epochOrder(train.count, deriveSeed(config.seed, 0x5b5e), 0).slice(0, size)).sort();
  log.log(`data: ${set}, training on ${size} of ${train.count} train images, scoring on ${test.count} test images`);
  const classifier = new SpriteClassifier(imageSetClassifierConfig(set), config.seed);
  log.log(`classifier: ${JSON.stringify(classifier.config)}, ${classifier.parameterCount} parameters`);
  const history = await trainShowingProgress(classifier, train, indices, config, log);
  const { spec, dir } = IMAGE_SETS[set];
  const score = await scoreClassifier(classifier, test, Int32Array.from({ length: test.count }, (_, i) => i));
  log.log(`test accuracy: ${(100 * score.accuracy).toFixed(2)} % on the ${score.count} test images`);
  log.log(formatConfusion(score, spec.classNames));
  const noise = clippedNoiseImages(set, measure.n, measure.seed);
  const report = await frechetAgainstTestSet(classifier, noise, set, measure.seed);
  noise.dispose();
  log.log(`Frechet distance at n = ${measure.n}, seed ${measure.seed}: real vs real (floor) ${report.floor.toFixed(3)}, clipped Gaussian noise vs real ${report.fd.toFixed(1)}`);
  await saveClassifier(out, classifier, {
    classNames: spec.classNames,
    data: { source: relative(PROJECT_ROOT, dir), generator: readImageSetManifest(dir)?.generator ?? "unknown", fingerprint: fingerprint(train), count: train.count, variantsPerBase: 1 },
    split: { heldOut: test.count, seed: config.seed, groupSize: 1, trainCount: size, heldOutCount: test.count },
    training: { config, history, backend: backend.name },
    heldOutScore: score,
    imageSet: { name: set, trainFingerprint: fingerprint(train), testFingerprint: fingerprint(test), frechet: { n: measure.n, seed: measure.seed, floor: report.floor, noise: report.fd } },
  });
  log.log(`saved to ${projectPath(out)} (${((Date.now() - started) / 1000).toFixed(0)} s in all)`);
  classifier.dispose();
}

main().catch((error) => {
  console.error(`train-classifier: ${(error as Error).message}`);
  process.exit(1);
});
