/**
 * npm run train -- [--context] [--epochs 32] [--out models/context] [--resume] ...
 * Trains ContextUnet on the sprite set with the course's recipe, saving a resumable checkpoint
 * after every epoch (and on Ctrl-C), weights-only snapshots at chosen epochs, and a training log.
 */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { parseArgs } from "node:util";
import * as tf from "@tensorflow/tfjs-core";
import { describeBackend, initBackend } from "../lib/backend";
import { epochOrder } from "../lib/data/batches";
import { fingerprint, loadSpriteDataset, subsetDataset } from "../lib/data/dataset";
import { DEFAULT_SPRITE_DIR, ensureSpriteSet } from "../lib/data/spriteFiles";
import { ContextUnet } from "../lib/model/contextUnet";
import { renderGridPng } from "../lib/render/grid";
import { PROJECT_ROOT } from "../lib/metrics/realSprites";
import { MANIFEST_FILE } from "../lib/train/checkpoint";
import { Trainer, spriteTrainingData } from "../lib/train/trainer";
import { type DataInfo, resumeTraining, saveTrainingCheckpoint } from "../lib/train/trainingCheckpoint";
import { ProgressLine, formatDuration, progressBar } from "./progressLine";

const USAGE = `Usage: npm run train -- --out DIR [options]
  --out DIR            checkpoint folder (resumable checkpoint after every epoch)
  --context            train with class labels as context (10 % dropped); default: unconditional
  --epochs N           epochs (default 32, the course)
  --batch N            batch size (default 100)
  --lr X               base learning rate (default 1e-3, decayed linearly per epoch)
  --seed N             seed of data order, t, noise and dropout (default 0)
  --ema DECAY          keep an exponential moving average of the weights (default: off)
  --sample-every K     write a DDIM-25 sample grid to DIR/samples/epoch-NN.png every K epochs
  --subset N           train on a seeded subset of N sprites (default: all)
  --snapshots LIST     epochs to keep weights-only copies of, e.g. 0,4,8 (default: none)
  --images F --labels F  .npy files (default: the project's set in ${DEFAULT_SPRITE_DIR})
  --resume             continue from the checkpoint in --out
  --max-minutes M      stop cleanly (with a checkpoint) after M minutes
Two trainings on a 2-core machine: run them at once with TF_NUM_INTRAOP_THREADS=1 each (environment.md).`;

function parse() {
  const { values } = parseArgs({
    options: {
      out: { type: "string" },
      context: { type: "boolean", default: false },
      epochs: { type: "string", default: "32" },
      batch: { type: "string", default: "100" },
      lr: { type: "string", default: "1e-3" },
      seed: { type: "string", default: "0" },
      ema: { type: "string" },
      "sample-every": { type: "string", default: "0" },
      subset: { type: "string" },
      snapshots: { type: "string", default: "" },
      images: { type: "string" },
      labels: { type: "string" },
      resume: { type: "boolean", default: false },
      "max-minutes": { type: "string" },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help || !values.out) {
    console.log(USAGE);
    process.exit(values.help ? 0 : 2);
  }
  return values;
}

async function main(): Promise<void> {
  const args = parse();
  const out = args.out!;
  const backend = await initBackend();
  const log = new ProgressLine();
  log.log(describeBackend(backend));

  const files = args.images && args.labels ? { images: args.images, labels: args.labels } : ensureSpriteSet();
  let dataset = loadSpriteDataset(files.images, files.labels);
  const seed = Number(args.seed);
  if (args.subset) {
    const chosen = epochOrder(dataset.count, seed, 0x5b5e7).slice(0, Number(args.subset)).sort();
    dataset = subsetDataset(dataset, chosen);
  }
  const data: DataInfo = { fingerprint: fingerprint(dataset), count: dataset.count, source: `${relative(PROJECT_ROOT, files.images)} + ${relative(PROJECT_ROOT, files.labels)}` };
  const snapshots = new Set(args.snapshots.split(",").filter(Boolean).map(Number));

  const model = new ContextUnet({}, seed);
  const trainer = new Trainer(model, spriteTrainingData(dataset), {
    epochs: Number(args.epochs),
    batchSize: Number(args.batch),
    learningRate: Number(args.lr),
    useContext: args.context,
    seed,
    emaDecay: args.ema ? Number(args.ema) : null,
    sampleEvery: Number(args["sample-every"]),
  });
  if (args.resume && existsSync(join(out, MANIFEST_FILE))) {
    resumeTraining(out, trainer, data);
    log.log(`resumed from ${out} at epoch ${trainer.position.epoch}, step ${trainer.position.globalStep}`);
  } else if (existsSync(join(out, MANIFEST_FILE))) {
    throw new Error(`${out} already holds a checkpoint: pass --resume to continue it, or choose another --out.`);
  }
  log.log(`training on ${dataset.count} sprites, ${trainer.stepsPerEpoch} steps per epoch, ${model.parameterCount} parameters`);

  let stop = false;
  process.on("SIGINT", () => {
    if (stop) process.exit(130);
    stop = true;
    log.log("stopping after this step (Ctrl-C again to quit at once, losing the step)");
  });
  const deadline = args["max-minutes"] ? Date.now() + Number(args["max-minutes"]) * 60_000 : Infinity;
  const started = Date.now();
  const stepsAtStart = trainer.position.globalStep;
  const totalSteps = trainer.config.epochs * trainer.stepsPerEpoch;

  const { completed } = await trainer.run({
    shouldStop: () => stop || Date.now() > deadline,
    onStep: (r) => {
      const rate = (r.globalStep - stepsAtStart) / ((Date.now() - started) / 1000);
      const eta = (totalSteps - r.globalStep) / rate;
      log.update(
        `epoch ${r.epoch + 1}/${trainer.config.epochs} ${progressBar(r.stepInEpoch, r.stepsPerEpoch)} ` +
          `loss ${r.loss.toFixed(4)} lr ${r.learningRate.toExponential(2)} ${r.imagesPerSecond.toFixed(0)} img/s ETA ${formatDuration(eta)}`,
      );
    },
    onSamples: (epoch, samples) => {
      mkdirSync(join(out, "samples"), { recursive: true });
      const file = join(out, "samples", `epoch-${String(epoch).padStart(2, "0")}.png`);
      writeFileSync(file, renderGridPng(samples, { rows: trainer.config.useContext ? model.config.nContext : 4 }));
      log.log(`wrote ${file}`);
    },
    onEpoch: async (r) => {
      await saveTrainingCheckpoint(out, trainer, data);
      if (snapshots.has(r.epoch)) await saveTrainingCheckpoint(join(out, "snapshots", `epoch-${String(r.epoch).padStart(2, "0")}`), trainer, data, true);
      writeTrainingLog(out, trainer, backend.name, data);
      log.log(
        `epoch ${r.epoch} done: mean loss ${r.meanLoss.toFixed(5)}, ${r.seconds.toFixed(0)} s, ` +
          `${r.imagesPerSecond.toFixed(1)} img/s, lr ${r.learningRate.toExponential(2)} (checkpoint saved)`,
      );
    },
  });
  if (!completed) {
    await saveTrainingCheckpoint(out, trainer, data);
    log.log(`stopped at epoch ${trainer.position.epoch}, step ${trainer.position.globalStep}; resume with --resume`);
  }
  writeTrainingLog(out, trainer, backend.name, data);
  trainer.dispose();
  model.dispose();
}

/** training-log.md beside the weights: loss per epoch, wall time, backend. */
function writeTrainingLog(out: string, trainer: Trainer, backend: string, data: DataInfo): void {
  mkdirSync(out, { recursive: true });
  const c = trainer.config;
  const rows = trainer.history.map(
    (h) => `| ${h.epoch} | ${h.meanLoss.toFixed(5)} | ${h.learningRate.toExponential(2)} | ${h.seconds.toFixed(0)} | ${h.imagesPerSecond.toFixed(1)} |`,
  );
  const total = trainer.history.reduce((s, h) => s + h.seconds, 0);
  const text = [
    `# Training log`,
    ``,
    `- model: ContextUnet, ${c.useContext ? `context (dropout ${c.contextDropout})` : "unconditional"}; backend ${backend}; tfjs ${tf.version_core}`,
    `- data: ${data.count} sprites (fingerprint ${data.fingerprint}), ${data.source}`,
    `- recipe: ${c.epochs} epochs, batch ${c.batchSize}, Adam lr ${c.learningRate} decayed linearly per epoch, seed ${c.seed}, EMA ${c.emaDecay ?? "off"}`,
    `- progress: ${trainer.position.epoch} epochs, ${trainer.position.globalStep} steps, wall time ${formatDuration(total)} of training`,
    ``,
    `| epoch | mean loss | lr | seconds | images/s |`,
    `|---:|---:|---:|---:|---:|`,
    ...rows,
    ``,
  ].join("\n");
  writeFileSync(join(out, "training-log.md"), text);
}

main().catch((error) => {
  console.error(`train: ${(error as Error).message}`);
  process.exit(1);
});
