/**
 * npm run train -- [--context] [--epochs 32] [--out models/context] [--resume] ...
 * Trains ContextUnet on the sprite set (or one's own images, with or without labels) with the
 * course's recipe, saving a resumable checkpoint after every epoch (and on Ctrl-C), weights-only
 * snapshots at chosen epochs, and a training log. Every option is checked before training starts.
 */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { parseArgs } from "node:util";
import * as tf from "@tensorflow/tfjs-core";
import { describeBackend, initBackend } from "../lib/backend";
import { epochOrder } from "../lib/data/batches";
import { type SpriteDataset, fingerprint, loadImagesOnlyDataset, loadSpriteDataset, subsetDataset } from "../lib/data/dataset";
import { PROJECT_ROOT } from "../lib/data/projectRoot";
import { DEFAULT_SPRITE_DIR, ensureSpriteSet } from "../lib/data/spriteFiles";
import { courseSchedule, cosineSchedule, describeSchedule } from "../lib/diffusion/schedule";
import { ContextUnet } from "../lib/model/contextUnet";
import { LOSS_KINDS, VARIANCE_KINDS, resolveTrainConfig } from "../lib/train/config";
import { TIMESTEP_SAMPLINGS } from "../lib/train/timestepSampler";
import { renderGridPng } from "../lib/render/grid";
import { MANIFEST_FILE } from "../lib/train/checkpoint";
import { Trainer, spriteTrainingData } from "../lib/train/trainer";
import { type DataInfo, resumeTraining, saveTrainingCheckpoint } from "../lib/train/trainingCheckpoint";
import { checkOutputFolder, choiceOption, numberOption, requirePartner } from "./arguments";
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
  --images F           your own sprites: uint8 (N, 16, 16, 3) .npy (default: the project's set in
                       ${DEFAULT_SPRITE_DIR}); alone, it trains an unconditional model
  --labels F           one-hot (N, 5) .npy labels of --images (needed with --context)
  --resume             continue from the checkpoint in --out
  --max-minutes M      stop cleanly (with a checkpoint) after M minutes
 improved DDPM (Nichol & Dhariwal 2021; lesson 08):
  --schedule S         linear (default, the course's) or cosine (their eq. 17), T = 500
  --loss L             simple (default, the course's L_simple), hybrid (L_simple + 0.001 L_vlb) or vlb
  --variance V         fixed (default, sigma^2 = beta_t) or learned (the model outputs 6 channels: eps and v)
  --timesteps S        uniform (default) or importance (t drawn by sqrt(E[L_t^2]), eq. 18)
Two trainings on a 2-core machine: run them at once with TF_NUM_INTRAOP_THREADS=1 each (environment.md).`;

/** The command's options, checked (the output folder, partner options, numbers); null for --help. */
export function parseTrainArgs(args: string[]) {
  const { values } = parseArgs({
    args,
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
      schedule: { type: "string", default: "linear" },
      loss: { type: "string", default: "simple" },
      variance: { type: "string", default: "fixed" },
      timesteps: { type: "string", default: "uniform" },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) return null;
  if (!values.out) throw new Error(`--out is required.\n${USAGE}`);
  checkOutputFolder(values.out, "--out");
  if (!values.resume && existsSync(join(values.out, MANIFEST_FILE))) {
    throw new Error(`${values.out} already holds a checkpoint: pass --resume to continue it, or choose another --out.`);
  }
  requirePartner(values, "labels", "images", "the labels belong to an images file; give both, or neither for the project's sprite set");
  if (values.images !== undefined && values.labels === undefined && values.context) {
    throw new Error(`--context trains on class labels, and --images ${values.images} comes without them: add --labels FILE (one-hot (N, 5), a row per image), or drop --context to train an unconditional model.`);
  }
  const objective = {
    loss: choiceOption(values.loss, "loss", LOSS_KINDS)!,
    variance: choiceOption(values.variance, "variance", VARIANCE_KINDS)!,
    timesteps: choiceOption(values.timesteps, "timesteps", TIMESTEP_SAMPLINGS)!,
  };
  // The combination rules (a learned variance needs the bound, ...) are the config's own.
  resolveTrainConfig(objective);
  const snapshots = values.snapshots!.split(",").filter(Boolean).map((v) => numberOption(v, "snapshots", { integer: true, min: 0 })!);
  return {
    out: values.out,
    images: values.images,
    labels: values.labels,
    context: values.context!,
    epochs: numberOption(values.epochs, "epochs", { integer: true, min: 1 })!,
    batch: numberOption(values.batch, "batch", { integer: true, min: 1 })!,
    lr: numberOption(values.lr, "lr", { min: 0 })!,
    seed: numberOption(values.seed, "seed", { integer: true, min: 0 })!,
    ema: numberOption(values.ema, "ema", { min: 0 }) ?? null,
    sampleEvery: numberOption(values["sample-every"], "sample-every", { integer: true, min: 0 })!,
    subset: numberOption(values.subset, "subset", { integer: true, min: 1 }),
    snapshots: new Set(snapshots),
    resume: values.resume!,
    maxMinutes: numberOption(values["max-minutes"], "max-minutes", { min: 0 }),
    schedule: choiceOption(values.schedule, "schedule", ["linear", "cosine"] as const)!,
    ...objective,
  };
}

/** The data to train on: --images with --labels, --images alone (no labels: unconditional), or the project's set. */
function trainingFiles(args: { images?: string; labels?: string }): { dataset: SpriteDataset; source: string } {
  const shown = (path: string) => relative(PROJECT_ROOT, path);
  if (args.images !== undefined && args.labels !== undefined) {
    return { dataset: loadSpriteDataset(args.images, args.labels), source: `${shown(args.images)} + ${shown(args.labels)}` };
  }
  if (args.images !== undefined) return { dataset: loadImagesOnlyDataset(args.images), source: shown(args.images) };
  const files = ensureSpriteSet();
  return { dataset: loadSpriteDataset(files.images, files.labels), source: `${shown(files.images)} + ${shown(files.labels)}` };
}

async function main(): Promise<void> {
  const args = parseTrainArgs(process.argv.slice(2));
  if (!args) return console.log(USAGE);
  const { out, seed, snapshots } = args;
  const backend = await initBackend();
  const log = new ProgressLine();
  log.log(describeBackend(backend));

  const files = trainingFiles(args);
  let dataset = files.dataset;
  if (args.subset !== undefined) {
    const chosen = epochOrder(dataset.count, seed, 0x5b5e7).slice(0, args.subset).sort();
    dataset = subsetDataset(dataset, chosen);
  }
  const data: DataInfo = { fingerprint: fingerprint(dataset), count: dataset.count, source: files.source };

  const model = new ContextUnet({ outChannels: args.variance === "learned" ? 6 : 3 }, seed);
  const schedule = args.schedule === "cosine" ? cosineSchedule({ T: courseSchedule.T }) : courseSchedule;
  const trainer = new Trainer(model, spriteTrainingData(dataset), {
    epochs: args.epochs,
    batchSize: args.batch,
    learningRate: args.lr,
    useContext: args.context,
    seed,
    emaDecay: args.ema,
    sampleEvery: args.sampleEvery,
    loss: args.loss,
    variance: args.variance,
    timesteps: args.timesteps,
  }, schedule);
  if (args.resume && existsSync(join(out, MANIFEST_FILE))) {
    resumeTraining(out, trainer, data);
    log.log(`resumed from ${out} at epoch ${trainer.position.epoch}, step ${trainer.position.globalStep}`);
  }
  log.log(`training on ${dataset.count} sprites, ${trainer.stepsPerEpoch} steps per epoch, ${model.parameterCount} parameters`);

  let stop = false;
  process.on("SIGINT", () => {
    if (stop) process.exit(130);
    stop = true;
    log.log("stopping after this step (Ctrl-C again to quit at once, losing the step)");
  });
  const deadline = args.maxMinutes !== undefined ? Date.now() + args.maxMinutes * 60_000 : Infinity;
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
    `- objective: loss ${c.loss}, variance ${c.variance}, t ${c.timesteps}; schedule ${describeSchedule(trainer.schedule.config)}`,
    `- progress: ${trainer.position.epoch} epochs, ${trainer.position.globalStep} steps, wall time ${formatDuration(total)} of training`,
    ``,
    `| epoch | mean loss | lr | seconds | images/s |`,
    `|---:|---:|---:|---:|---:|`,
    ...rows,
    ``,
  ].join("\n");
  writeFileSync(join(out, "training-log.md"), text);
}

if (typeof require !== "undefined" && require.main === module) {
  main().catch((error) => {
    console.error(`train: ${(error as Error).message}`);
    process.exit(1);
  });
}
