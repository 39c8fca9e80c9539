/**
 * npm run train-attribute-classifier -- --attribute kind|colour [--out DIR] [--epochs 3] [--batch 128] [--lr 2e-3] [--seed 0] [--top 10]
 * Trains the classifier of one sprite attribute a prompt names (issue 18): the kind ("potion") or
 * the main colour ("red"), the sprite classifier with one class per value in the captions file.
 * Trains on the training part of the project's sprite set, scores it on the held-out base sprites
 * (the split the sprite classifier uses), prints the per-class recall's extremes and the most
 * confused pairs, and saves weights and manifest (default models/classifier-<attribute>).
 */
import { join, relative } from "node:path";
import { parseArgs } from "node:util";
import { describeBackend, initBackend } from "../lib/backend";
import { SPRITE_CAPTIONS_FILE, loadSpriteCaptions } from "../lib/data/spriteCaptions";
import { PROJECT_ROOT, projectPath } from "../lib/data/projectRoot";
import { SPRITE_ATTRIBUTE_NAMES, attributeClassRecords, attributeClassifierDir, attributeDataset, checkAttributeName, mostConfusedPairs } from "../lib/metrics/attributeClassifier";
import { SpriteClassifier } from "../lib/metrics/classifier";
import { saveClassifier } from "../lib/metrics/classifierFile";
import { DEFAULT_CLASSIFIER_TRAINING, scoreClassifier, trainClassifier } from "../lib/metrics/classifierTraining";
import { CLASSIFIER_SPLIT, realSpriteSet } from "../lib/metrics/realSprites";
import { checkOutputFolder, numberOption } from "./arguments";
import { ProgressLine, progressBar } from "./progressLine";

const USAGE = `Usage: npm run train-attribute-classifier -- --attribute NAME [options]
  --attribute NAME  ${SPRITE_ATTRIBUTE_NAMES.join(" or ")} (colour: the main colour, a base's first colour name)
  --out DIR         where to save the classifier (default models/classifier-NAME)
  --epochs N        passes over the training part (default ${DEFAULT_CLASSIFIER_TRAINING.epochs})
  --batch N         batch size (default ${DEFAULT_CLASSIFIER_TRAINING.batchSize})
  --lr X            peak learning rate, decayed linearly to 0 (default ${DEFAULT_CLASSIFIER_TRAINING.learningRate})
  --seed N          seed of the initialisation and batch order (default ${DEFAULT_CLASSIFIER_TRAINING.seed})
  --top N           confused pairs to print and record (default 10)`;

/** The command's options, checked (and the output folder with them) before any work; null for --help. */
export function parseAttributeClassifierArgs(args: string[]) {
  const { values } = parseArgs({
    args,
    options: {
      attribute: { type: "string" },
      out: { type: "string" },
      epochs: { type: "string" },
      batch: { type: "string" },
      lr: { type: "string" },
      seed: { type: "string" },
      top: { type: "string" },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) return null;
  if (values.attribute === undefined) throw new Error(`--attribute is required: ${SPRITE_ATTRIBUTE_NAMES.join(" or ")}.\n${USAGE}`);
  const attribute = checkAttributeName(values.attribute);
  const d = DEFAULT_CLASSIFIER_TRAINING;
  const config = {
    epochs: numberOption(values.epochs, "epochs", { integer: true, min: 1 }) ?? d.epochs,
    batchSize: numberOption(values.batch, "batch", { integer: true, min: 1 }) ?? d.batchSize,
    learningRate: numberOption(values.lr, "lr", { min: 0 }) ?? d.learningRate,
    seed: numberOption(values.seed, "seed", { integer: true, min: 0 }) ?? d.seed,
  };
  const out = values.out ?? attributeClassifierDir(attribute);
  // Saved relative to the project root, as saveClassifier does.
  checkOutputFolder(projectPath(out), "--out");
  return { attribute, out, config, top: numberOption(values.top, "top", { integer: true, min: 1 }) ?? 10 };
}

const percent = (share: number) => `${(100 * share).toFixed(1)} %`;

async function main(): Promise<void> {
  const options = parseAttributeClassifierArgs(process.argv.slice(2));
  if (options === null) return console.log(USAGE);
  const { attribute, out, config, top } = options;
  const backend = await initBackend();
  const log = new ProgressLine();
  log.log(describeBackend(backend));

  const real = realSpriteSet();
  const captions = loadSpriteCaptions(real.dir);
  const data = attributeDataset(real.dataset, captions, attribute);
  const { train, heldOut } = real.split;
  log.log(`data: ${real.dataset.count} sprites from ${real.dir}, ${data.classNames.length} ${attribute} classes; training on ${train.length}, ` +
    `holding out ${heldOut.length} (${heldOut.length / real.variantsPerBase} whole base sprites)`);

  const classifier = new SpriteClassifier({ classes: data.classNames.length }, config.seed);
  log.log(`classifier: ${classifier.parameterCount} parameters`);
  let stop = false;
  process.on("SIGINT", () => {
    if (stop) process.exit(130);
    stop = true;
    log.log("stopping after this step (nothing is saved)");
  });
  const history = await trainClassifier(classifier, data.dataset, train, config, {
    shouldStop: () => stop,
    onStep: (r) => log.update(`epoch ${r.epoch + 1}/${config.epochs} ${progressBar(r.step, r.steps)} loss ${r.loss.toFixed(4)} lr ${r.learningRate.toExponential(2)}`),
    onEpoch: (r) => log.log(`epoch ${r.epoch} done: mean loss ${r.meanLoss.toFixed(4)}, train accuracy ${percent(r.trainAccuracy)}, ${r.seconds.toFixed(0)} s`),
  });
  if (stop) process.exit(130);

  const score = await scoreClassifier(classifier, data.dataset, heldOut);
  const classes = attributeClassRecords(data, train, score);
  const confusedPairs = mostConfusedPairs(score.confusion, data.classNames, top);
  log.log(`held-out accuracy (${attribute}): ${percent(score.accuracy)} on ${score.count} sprites of unseen base sprites`);
  const scored = classes.filter((c) => c.recall !== null).sort((a, b) => a.recall! - b.recall!);
  log.log(`lowest recall: ${scored.slice(0, 8).map((c) => `${c.name} ${percent(c.recall!)} (${c.heldOutImages})`).join(", ")}`);
  const unseen = classes.filter((c) => c.trainImages === 0).map((c) => c.name);
  if (unseen.length > 0) log.log(`only in held-out bases (never trained on): ${unseen.join(", ")}`);
  log.log(`most confused (true -> predicted: images, share of the true class):`);
  for (const p of confusedPairs) log.log(`  ${p.trueName} -> ${p.predictedName}: ${p.count}, ${percent(p.share)}`);

  await saveClassifier(out, classifier, {
    classNames: data.classNames,
    data: { source: relative(PROJECT_ROOT, real.dir), generator: real.generator, fingerprint: real.fingerprint, count: real.dataset.count, variantsPerBase: real.variantsPerBase },
    split: { ...CLASSIFIER_SPLIT, groupSize: real.variantsPerBase, trainCount: train.length, heldOutCount: heldOut.length },
    training: { config, history, backend: backend.name },
    heldOutScore: score,
    attribute: { name: attribute, captions: relative(PROJECT_ROOT, join(real.dir, SPRITE_CAPTIONS_FILE)), heldOutAccuracy: score.accuracy, classes, confusedPairs },
  });
  log.log(`saved to ${projectPath(out)}`);
  classifier.dispose();
}

if (typeof require !== "undefined" && require.main === module) {
  main().catch((error) => {
    console.error(`train-attribute-classifier: ${(error as Error).message}`);
    process.exit(1);
  });
}
