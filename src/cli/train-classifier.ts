/**
 * npm run train-classifier -- [--out models/classifier] [--epochs 3] [--batch 128] [--lr 2e-3] [--seed 0]
 * Trains the sprite classifier (the instrument of context accuracy and SFD) on the training part of
 * the project's sprite set, scores it on the held-out base sprites it never saw, prints the
 * confusion matrix, and saves its weights and manifest.
 */
import { relative } from "node:path";
import { parseArgs } from "node:util";
import { describeBackend, initBackend } from "../lib/backend";
import { SPRITE_CLASS_NAMES } from "../lib/data/sprites/classes";
import { SpriteClassifier } from "../lib/metrics/classifier";
import { DEFAULT_CLASSIFIER_DIR, saveClassifier } from "../lib/metrics/classifierFile";
import { DEFAULT_CLASSIFIER_TRAINING, type ClassifierScore, scoreClassifier, trainClassifier } from "../lib/metrics/classifierTraining";
import { PROJECT_ROOT, projectPath } from "../lib/data/projectRoot";
import { CLASSIFIER_SPLIT, realSpriteSet } from "../lib/metrics/realSprites";
import { checkOutputFolder } from "./arguments";
import { ProgressLine, progressBar } from "./progressLine";

const USAGE = `Usage: npm run train-classifier -- [options]
  --out DIR      where to save the classifier (default ${DEFAULT_CLASSIFIER_DIR})
  --epochs N     passes over the training part (default ${DEFAULT_CLASSIFIER_TRAINING.epochs})
  --batch N      batch size (default ${DEFAULT_CLASSIFIER_TRAINING.batchSize})
  --lr X         peak learning rate, decayed linearly to 0 (default ${DEFAULT_CLASSIFIER_TRAINING.learningRate})
  --seed N       seed of the initialisation and batch order (default ${DEFAULT_CLASSIFIER_TRAINING.seed})`;

/** The confusion matrix as aligned text, rows = true class, columns = predicted. */
export function formatConfusion(score: ClassifierScore): string {
  const names = SPRITE_CLASS_NAMES;
  const width = Math.max(...names.map((n) => n.length)) + 2;
  const header = `${"true \\ predicted".padEnd(width)}${names.map((n) => n.padStart(width)).join("")}${"recall".padStart(9)}`;
  const rows = score.confusion.map(
    (row, c) => `${names[c].padEnd(width)}${row.map((v) => String(v).padStart(width)).join("")}${(100 * score.perClassAccuracy[c]).toFixed(2).padStart(8)}%`,
  );
  return [header, ...rows].join("\n");
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      out: { type: "string", default: DEFAULT_CLASSIFIER_DIR },
      epochs: { type: "string", default: String(DEFAULT_CLASSIFIER_TRAINING.epochs) },
      batch: { type: "string", default: String(DEFAULT_CLASSIFIER_TRAINING.batchSize) },
      lr: { type: "string", default: String(DEFAULT_CLASSIFIER_TRAINING.learningRate) },
      seed: { type: "string", default: String(DEFAULT_CLASSIFIER_TRAINING.seed) },
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
  // Saved relative to the project root, as saveClassifier does.
  checkOutputFolder(projectPath(values.out!), "--out");
  const backend = await initBackend();
  const log = new ProgressLine();
  log.log(describeBackend(backend));

  const real = realSpriteSet();
  const { train, heldOut } = real.split;
  log.log(`data: ${real.dataset.count} sprites from ${real.dir} (${real.generator}); training on ${train.length}, ` +
    `holding out ${heldOut.length} (${heldOut.length / real.variantsPerBase} whole base sprites)`);

  const classifier = new SpriteClassifier({}, config.seed);
  log.log(`classifier: ${classifier.parameterCount} parameters`);
  let stop = false;
  process.on("SIGINT", () => {
    if (stop) process.exit(130);
    stop = true;
    log.log("stopping after this step (nothing is saved)");
  });
  const history = await trainClassifier(classifier, real.dataset, train, config, {
    shouldStop: () => stop,
    onStep: (r) => log.update(`epoch ${r.epoch + 1}/${config.epochs} ${progressBar(r.step, r.steps)} loss ${r.loss.toFixed(4)} lr ${r.learningRate.toExponential(2)}`),
    onEpoch: (r) => log.log(`epoch ${r.epoch} done: mean loss ${r.meanLoss.toFixed(4)}, train accuracy ${(100 * r.trainAccuracy).toFixed(2)} %, ${r.seconds.toFixed(0)} s`),
  });
  if (stop) {
    classifier.dispose();
    process.exit(130);
  }

  const score = await scoreClassifier(classifier, real.dataset, heldOut);
  log.log(`held-out accuracy: ${(100 * score.accuracy).toFixed(2)} % on ${score.count} sprites of unseen base sprites`);
  log.log(formatConfusion(score));
  await saveClassifier(values.out!, classifier, {
    classNames: SPRITE_CLASS_NAMES,
    data: { source: relative(PROJECT_ROOT, real.dir), generator: real.generator, fingerprint: real.fingerprint, count: real.dataset.count, variantsPerBase: real.variantsPerBase },
    split: { ...CLASSIFIER_SPLIT, groupSize: real.variantsPerBase, trainCount: train.length, heldOutCount: heldOut.length },
    training: { config, history, backend: backend.name },
    heldOutScore: score,
  });
  log.log(`saved to ${projectPath(values.out!)}`);
  classifier.dispose();
}

main().catch((error) => {
  console.error(`train-classifier: ${(error as Error).message}`);
  process.exit(1);
});
