/**
 * npm run train-ardm -- [--out models/ardm] [--epochs 2] [--batch 16] [--lr 1e-3] [--warmup 200]
 *                       [--seed 0] [--ema 0.999|off] [--subset 24000] [--network transformer|conv]
 *                       [--resume] [--max-minutes M]
 * Trains the order-agnostic ARDM (Hoogeboom et al. 2022; lesson 10) on the sprites as 768 uint8
 * categorical variables: the sprites' transformer (src/lib/ardm/transformer.ts), or with --network
 * conv the convolutional UNet of about the same size (src/lib/ardm/convNetwork.ts), with Eq. 4's loss
 * on the shared training loop, a resumable checkpoint after every epoch, every --checkpoint-minutes
 * and on Ctrl-C or --max-minutes, and a training log. Every option is checked before training.
 *
 * The recipe (the defaults, ARDM_TRAIN_DEFAULTS) is sized for this project's 2-core CPU: see
 * training-log.md of a run and the README's command table for the measured speed.
 */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import * as tf from "@tensorflow/tfjs-core";
import { ARDM_SPRITE_TRANSFORMER, ArdmTransformer } from "../lib/ardm/transformer";
import { ARDM_SPRITE_CONV_UNET, ArdmConvUnet } from "../lib/ardm/convNetwork";
import { ardmArchitectureOf } from "../lib/ardm/architectures";
import { resumeArdmTraining, saveArdmCheckpoint } from "../lib/ardm/checkpoint";
import { ARDM_TRAIN_DEFAULTS, ArdmTrainer, resolveArdmTrainConfig, spriteVariables } from "../lib/ardm/training";
import { describeBackend, initBackend } from "../lib/backend";
import { seededSubset } from "../lib/data/batches";
import { fingerprint } from "../lib/data/dataset";
import { MANIFEST_FILE } from "../lib/train/checkpoint";
import type { DataInfo } from "../lib/train/trainingCheckpoint";
import { checkOutputFolder, numberOption } from "./arguments";
import { ProgressLine, formatDuration, progressBar } from "./progressLine";
import { trainingStop } from "./trainingStop";
import { trainingFiles } from "./train";

const R = ARDM_TRAIN_DEFAULTS;
const DEFAULT_SUBSET = 24000;
const NETWORKS = ["transformer", "conv"] as const;
const T = ARDM_SPRITE_TRANSFORMER;
const U = ARDM_SPRITE_CONV_UNET;
const USAGE = `Usage: npm run train-ardm -- [options]
  --out DIR               checkpoint folder (default models/ardm)
  --epochs N              passes over the data (default ${R.epochs})
  --batch N               sprites per Adam step (default ${R.batchSize})
  --lr X                  peak learning rate (default ${R.learningRate}), warmed up, then decayed linearly per step to 0
  --warmup N              warm-up steps (default ${R.warmupSteps})
  --seed N                seed of the initialisation, data order, subset and every (t, sigma) (default ${R.seed})
  --ema DECAY|off         exponential moving average of the weights (default ${R.emaDecay})
  --subset N              train on the seeded subset of N sprites (default ${DEFAULT_SUBSET}: with seed 0 the
                          improved-DDPM models' training sprites, so npm run ardm-nll measures on their held-out sprites)
  --network NAME          transformer (default: width ${T.modelWidth}, ${T.layers} blocks of ${T.heads} heads) or conv (a UNet of
                          widths ${U.levelWidths.join(", ")} at ${U.height}x${U.width} and below, ${U.blocksPerLevel} residual blocks a level each way)
  --resume                continue from the checkpoint in --out (with the --network it was trained with)
  --max-minutes M         stop cleanly (with a checkpoint) after M minutes
  --checkpoint-minutes M  also save a checkpoint every M minutes within an epoch (default 10; 0 = at epoch ends only)
On a 2-core machine shared with another training: TF_NUM_INTRAOP_THREADS=1.`;

/** The command's options, checked (numbers, the output folder, an existing checkpoint); null for --help. */
export function parseTrainArdmArgs(args: string[]) {
  const { values: v } = parseArgs({
    args,
    options: {
      out: { type: "string", default: "models/ardm" },
      epochs: { type: "string" },
      batch: { type: "string" },
      lr: { type: "string" },
      warmup: { type: "string" },
      seed: { type: "string" },
      ema: { type: "string" },
      subset: { type: "string" },
      network: { type: "string", default: "transformer" },
      resume: { type: "boolean", default: false },
      "max-minutes": { type: "string" },
      "checkpoint-minutes": { type: "string", default: "10" },
      help: { type: "boolean", default: false },
    },
  });
  if (v.help) return null;
  const out = v.out!;
  checkOutputFolder(out, "--out");
  const network = v.network as (typeof NETWORKS)[number];
  if (!NETWORKS.includes(network)) throw new Error(`--network must be one of ${NETWORKS.join(", ")}, got "${v.network}".`);
  if (!v.resume && existsSync(join(out, MANIFEST_FILE))) throw new Error(`${out} already holds a checkpoint: pass --resume to continue it, or choose another --out.`);
  const config = resolveArdmTrainConfig({
    epochs: numberOption(v.epochs, "epochs", { integer: true, min: 1 }) ?? R.epochs,
    batchSize: numberOption(v.batch, "batch", { integer: true, min: 1 }) ?? R.batchSize,
    learningRate: numberOption(v.lr, "lr", { min: 0 }) ?? R.learningRate,
    warmupSteps: numberOption(v.warmup, "warmup", { integer: true, min: 0 }) ?? R.warmupSteps,
    seed: numberOption(v.seed, "seed", { integer: true, min: 0 }) ?? R.seed,
    emaDecay: v.ema === "off" ? null : v.ema === undefined ? R.emaDecay : numberOption(v.ema, "ema", { min: 0 })!,
  });
  return {
    out,
    config,
    subset: numberOption(v.subset, "subset", { integer: true, min: 1 }) ?? DEFAULT_SUBSET,
    network,
    resume: v.resume!,
    maxMinutes: numberOption(v["max-minutes"], "max-minutes", { min: 0 }),
    checkpointMinutes: numberOption(v["checkpoint-minutes"], "checkpoint-minutes", { min: 0 })!,
  };
}

async function main(): Promise<void> {
  const args = parseTrainArdmArgs(process.argv.slice(2));
  if (!args) return console.log(USAGE);
  const { out, config } = args;
  const backend = await initBackend();
  const log = new ProgressLine();
  log.log(describeBackend(backend));

  const files = trainingFiles({});
  const dataset = seededSubset(files.dataset, args.subset, config.seed);
  const data: DataInfo = { fingerprint: fingerprint(dataset), count: dataset.count, source: files.source };
  const network = args.network === "conv" ? new ArdmConvUnet(ARDM_SPRITE_CONV_UNET, config.seed) : new ArdmTransformer(ARDM_SPRITE_TRANSFORMER, config.seed);
  const trainer = new ArdmTrainer(network, spriteVariables(dataset), config);
  if (args.resume && existsSync(join(out, MANIFEST_FILE))) {
    resumeArdmTraining(out, trainer, data);
    log.log(`resumed from ${out} at epoch ${trainer.position.epoch}, step ${trainer.position.globalStep}`);
  }
  log.log(`training on ${data.count} sprites (D = ${network.dimensions} variables, K = ${network.categories}), ${trainer.stepsPerEpoch} steps per epoch, ${trainer.totalSteps} in all, ${network.parameterCount} parameters`);

  const shouldStop = trainingStop(log, args.maxMinutes);
  const started = Date.now();
  const stepsAtStart = trainer.position.globalStep;
  let lastSave = Date.now();
  const bitsPerDim = (nats: number) => nats / (network.dimensions * Math.LN2);
  const save = async () => {
    await saveArdmCheckpoint(out, trainer, data);
    writeArdmTrainingLog(out, trainer, backend.name, data, (trainer.position.globalStep - stepsAtStart) / ((Date.now() - started) / 1000));
    lastSave = Date.now();
  };

  const { completed } = await trainer.run({
    shouldStop,
    onStep: async (r) => {
      const rate = (r.globalStep - stepsAtStart) / ((Date.now() - started) / 1000);
      log.update(
        `epoch ${r.epoch + 1}/${config.epochs} ${progressBar(r.stepInEpoch, r.stepsPerEpoch)} loss ${r.loss.toFixed(1)} (${bitsPerDim(r.loss).toFixed(3)} bits/dim) ` +
          `lr ${r.learningRate.toExponential(2)} ${rate.toFixed(2)} steps/s ETA ${formatDuration((trainer.totalSteps - r.globalStep) / rate)}`,
      );
      if (args.checkpointMinutes > 0 && Date.now() - lastSave > args.checkpointMinutes * 60_000) await save();
    },
    onEpoch: async (r) => {
      await save();
      log.log(`epoch ${r.epoch} done: mean loss ${r.meanLoss.toFixed(2)} nats (${bitsPerDim(r.meanLoss).toFixed(4)} bits/dim), ${formatDuration(r.seconds)}, ${r.imagesPerSecond.toFixed(1)} sprites/s (checkpoint saved)`);
    },
  });
  if (!completed) {
    await save();
    log.log(`stopped at epoch ${trainer.position.epoch}, step ${trainer.position.globalStep}; resume with --resume`);
  }
  trainer.dispose();
  network.dispose();
}

/** training-log.md beside the weights: the recipe, the data, loss per epoch, wall time, speed. */
function writeArdmTrainingLog(out: string, trainer: ArdmTrainer, backend: string, data: DataInfo, stepsPerSecond: number): void {
  mkdirSync(out, { recursive: true });
  const c = trainer.config;
  const perBit = trainer.network.dimensions * Math.LN2;
  const total = trainer.history.reduce((s, h) => s + h.seconds, 0);
  const text = [
    `# Training log: order-agnostic ARDM`,
    ``,
    `- model: ${ardmArchitectureOf(trainer.network).name} ${JSON.stringify(trainer.network.config)}, ${trainer.network.parameterCount} parameters; backend ${backend}; tfjs ${tf.version_core}; TF_NUM_INTRAOP_THREADS ${process.env.TF_NUM_INTRAOP_THREADS ?? "unset"}`,
    `- data: ${data.count} sprites (fingerprint ${data.fingerprint}), ${data.source}, as D = ${trainer.network.dimensions} uint8 variables each`,
    `- recipe: ${c.epochs} epochs, batch ${c.batchSize} (${trainer.totalSteps} steps), Adam lr ${c.learningRate} with ${c.warmupSteps} warm-up steps then linear decay per step, seed ${c.seed}, EMA ${c.emaDecay ?? "off"}`,
    `- objective: Eq. 4 of Hoogeboom et al. 2022 (t uniform in 1..D, a random order per sprite), nats per sprite; bits/dim = nats / (D ln 2)`,
    `- progress: ${trainer.position.epoch} epochs, ${trainer.position.globalStep} steps; ${formatDuration(total)} in completed epochs; this session ${stepsPerSecond.toFixed(3)} steps/s`,
    ``,
    `| epoch | mean loss (nats) | bits/dim | lr at end | seconds | sprites/s |`,
    `|---:|---:|---:|---:|---:|---:|`,
    ...trainer.history.map((h) => `| ${h.epoch} | ${h.meanLoss.toFixed(2)} | ${(h.meanLoss / perBit).toFixed(4)} | ${h.learningRate.toExponential(2)} | ${h.seconds.toFixed(0)} | ${h.imagesPerSecond.toFixed(1)} |`),
    ``,
  ].join("\n");
  writeFileSync(join(out, "training-log.md"), text);
}

if (typeof require !== "undefined" && require.main === module) {
  main().catch((error) => {
    console.error(`train-ardm: ${(error as Error).message}`);
    process.exit(1);
  });
}
