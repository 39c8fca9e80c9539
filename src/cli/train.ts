/**
 * npm run train -- [--context] [--epochs 32] [--out models/context] [--resume] ...
 * npm run train -- --text [--out models/text] [--resume] ...
 * npm run train -- --config configs/mnist.json [--out DIR] [--resume]
 * Trains ContextUnet on the sprite set (or one's own images, with or without labels) with the
 * course's recipe, a text-conditioned ContextUnet on the sprites and their captions with the same
 * recipe, or the attention UNet a DDPM config file describes on the set it names; saving
 * a resumable checkpoint after every epoch (and on Ctrl-C), weights-only snapshots at chosen
 * epochs, and a training log. Every option is checked before training starts.
 */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { basename, join, relative } from "node:path";
import { parseArgs } from "node:util";
import * as tf from "@tensorflow/tfjs-core";
import { describeBackend, initBackend } from "../lib/backend";
import { seededSubset } from "../lib/data/batches";
import { type SpriteDataset, fingerprint, loadImagesOnlyDataset, loadSpriteDataset } from "../lib/data/dataset";
import { PROJECT_ROOT, projectPath } from "../lib/data/projectRoot";
import { SPRITE_CAPTIONS_FILE, type SpriteCaptions, loadSpriteCaptions } from "../lib/data/spriteCaptions";
import { DEFAULT_SPRITE_DIR, ensureSpriteSet } from "../lib/data/spriteFiles";
import { type Schedule, courseSchedule, cosineSchedule, describeSchedule } from "../lib/diffusion/schedule";
import type { DdpmConfig } from "../lib/config/ddpmConfig";
import { loadDdpmConfig } from "../lib/config/ddpmConfigFile";
import { architectureOf } from "../lib/model/architecture";
import { ContextUnet } from "../lib/model/contextUnet";
import { CAPTION_ENCODER_DEFAULTS } from "../lib/text/captionEncoder";
import { captionedModelOptions, captionedTrainingData } from "../lib/text/captionedData";
import { HELD_OUT_PAIRS, type HeldOutPair, TooFewHeldOutPairsError, heldOutPairs } from "../lib/text/heldOutPrompts";
import { TextContextUnet } from "../lib/text/textContextUnet";
import type { TrainableNoiseModel } from "../lib/model/trainableNoiseModel";
import { LOSS_KINDS, type TrainConfig, VARIANCE_KINDS, resolveTrainConfig } from "../lib/train/config";
import { TIMESTEP_SAMPLINGS } from "../lib/train/timestepSampler";
import { renderGridPng } from "../lib/render/grid";
import { MANIFEST_FILE } from "../lib/train/checkpoint";
import { Trainer, spriteTrainingData } from "../lib/train/trainer";
import { type DataInfo, resumeTraining, saveTrainingCheckpoint } from "../lib/train/trainingCheckpoint";
import { ddpmTrainer, loadDdpmDataset } from "../lib/train/ddpmRun";
import { checkOutputFolder, choiceOption, numberOption, requirePartner } from "./arguments";
import { ProgressLine, formatDuration, progressBar } from "./progressLine";
import { trainingStop } from "./trainingStop";

/** Where --text saves without --out. */
const DEFAULT_TEXT_OUT = "models/text";

const USAGE = `Usage: npm run train -- --out DIR [options]
       npm run train -- --text [--out DIR] [options]
       npm run train -- --config FILE [--out DIR] [--resume] [--sample-every K] [--snapshots LIST] [--max-minutes M]
  --config FILE        a DDPM config file (configs/mnist.json): the data set, the attention UNet,
                       the schedule and the recipe, unconditional; --out defaults to its training.out
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
 text context (issue 18; lesson 11):
  --text               train a TextContextUnet, the caption encoder and the course's UNet together, on
                       the sprites with their captions (${SPRITE_CAPTIONS_FILE}, written by npm run sprites):
                       each sprite's caption picked from its own by --seed, 10 % dropped to the empty
                       caption (for --guidance); the rest of the recipe as --context runs, every option
                       above but --context, --images, --labels. --out defaults to ${DEFAULT_TEXT_OUT}.
                       The model: the set's vocabulary (152 words for the project's set) and <pad>, <unk>;
                       ${CAPTION_ENCODER_DEFAULTS.maxTokens} tokens a caption (or the longest caption's words, if more); word embeddings
                       of ${CAPTION_ENCODER_DEFAULTS.embeddingWidth}, averaged, through an MLP (hidden ${CAPTION_ENCODER_DEFAULTS.hiddenWidth}) to a context vector of ${CAPTION_ENCODER_DEFAULTS.contextSize};
                       the course's UNet. --sample-every K draws 8 sprites per prompt, a prompt per class
                       (the first caption of its first sprite), its prompts in DIR/samples/epoch-NN.txt
  --hold-out N         with --text: leave out the images of N kind-and-colour pairs (default ${HELD_OUT_PAIRS}, 0 for none),
                       drawn by --seed, one per kind, so that their prompts ("a red potion") measure what the
                       model composes from words it learnt apart; the checkpoint records them (data.heldOut)
  --sprites DIR        with --text: the captioned sprite set's folder (default ${relative(PROJECT_ROOT, DEFAULT_SPRITE_DIR)})
Two trainings on a 2-core machine: run them at once with TF_NUM_INTRAOP_THREADS=1 each (environment.md).`;

/** What a config file sets: these options would change its run, so they cannot come with --config. */
const SET_BY_CONFIG = ["context", "text", "sprites", "epochs", "batch", "lr", "seed", "ema", "subset", "images", "labels", "schedule", "loss", "variance", "timesteps"] as const;

/** The --config file, checked (a ConfigError names its bad key), or null; throws naming the options given with it that it decides. */
function configOption(values: Partial<Record<"config" | (typeof SET_BY_CONFIG)[number], string | boolean>>): DdpmConfig | null {
  if (values.config === undefined) return null;
  const clashing = SET_BY_CONFIG.filter((option) => values[option] !== undefined);
  if (clashing.length > 0) {
    const named = clashing.map((option) => `--${option}`).join(", ");
    throw new Error(`--config ${values.config} sets the whole run (data, model, schedule, recipe; unconditional), so ${named} cannot come with it: drop ${clashing.length > 1 ? "them" : "it"}, or change the config file.`);
  }
  return loadDdpmConfig(String(values.config));
}

/** --text's rules: it takes captions from --sprites DIR, so neither class labels (--context) nor --images/--labels. */
function checkTextOptions(values: Partial<Record<"text" | "sprites" | "hold-out" | "context" | "images" | "labels", string | boolean>>): void {
  requirePartner(values, "sprites", "text", "it names the captioned sprite set --text trains on (without --text, --images FILE chooses the images)");
  requirePartner(values, "hold-out", "text", "it holds kind-and-colour pairs of the captioned set out of a --text run");
  if (values.text && values.context) {
    throw new Error("--text trains on captions as the context and --context on class labels: choose one (sample a --text model with --prompt, a --context one with --context).");
  }
  const withImages = (["images", "labels"] as const).filter((option) => values[option] !== undefined);
  if (values.text && withImages.length > 0) {
    throw new Error(
      `--text trains on a captioned sprite set, images and captions together: drop ${withImages.map((o) => `--${o}`).join(", ")} and give the set's ` +
        `folder with --sprites DIR (default ${relative(PROJECT_ROOT, DEFAULT_SPRITE_DIR)}; npm run sprites -- --out DIR makes one).`,
    );
  }
}

/** The command's options, checked (the output folder, partner options, numbers, a config file); null for --help. */
export function parseTrainArgs(args: string[]) {
  const { values } = parseArgs({
    args,
    options: {
      config: { type: "string" },
      out: { type: "string" },
      context: { type: "boolean" },
      text: { type: "boolean" },
      sprites: { type: "string" },
      "hold-out": { type: "string" },
      epochs: { type: "string" },
      batch: { type: "string" },
      lr: { type: "string" },
      seed: { type: "string" },
      ema: { type: "string" },
      "sample-every": { type: "string", default: "0" },
      subset: { type: "string" },
      snapshots: { type: "string", default: "" },
      images: { type: "string" },
      labels: { type: "string" },
      resume: { type: "boolean", default: false },
      "max-minutes": { type: "string" },
      schedule: { type: "string" },
      loss: { type: "string" },
      variance: { type: "string" },
      timesteps: { type: "string" },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) return null;
  const ddpmConfig = configOption(values);
  checkTextOptions(values);
  const out = values.out ?? (ddpmConfig ? projectPath(ddpmConfig.training.out) : values.text ? projectPath(DEFAULT_TEXT_OUT) : undefined);
  if (!out) throw new Error(`--out is required.\n${USAGE}`);
  checkOutputFolder(out, "--out");
  if (!values.resume && existsSync(join(out, MANIFEST_FILE))) {
    throw new Error(`${out} already holds a checkpoint: pass --resume to continue it, or choose another --out.`);
  }
  requirePartner(values, "labels", "images", "the labels belong to an images file; give both, or neither for the project's sprite set");
  if (values.images !== undefined && values.labels === undefined && values.context) {
    throw new Error(`--context trains on class labels, and --images ${values.images} comes without them: add --labels FILE (one-hot (N, 5), a row per image), or drop --context to train an unconditional model.`);
  }
  const objective = {
    loss: choiceOption(values.loss ?? "simple", "loss", LOSS_KINDS)!,
    variance: choiceOption(values.variance ?? "fixed", "variance", VARIANCE_KINDS)!,
    timesteps: choiceOption(values.timesteps ?? "uniform", "timesteps", TIMESTEP_SAMPLINGS)!,
  };
  // The combination rules (a learned variance needs the bound, ...) are the config's own.
  resolveTrainConfig(objective);
  const snapshots = values.snapshots!.split(",").filter(Boolean).map((v) => numberOption(v, "snapshots", { integer: true, min: 0 })!);
  return {
    out,
    configFile: values.config,
    ddpmConfig,
    images: values.images,
    labels: values.labels,
    context: values.context ?? false,
    text: values.text ?? false,
    sprites: values.sprites ?? DEFAULT_SPRITE_DIR,
    holdOut: numberOption(values["hold-out"] ?? String(HELD_OUT_PAIRS), "hold-out", { integer: true, min: 0 })!,
    epochs: numberOption(values.epochs ?? "32", "epochs", { integer: true, min: 1 })!,
    batch: numberOption(values.batch ?? "100", "batch", { integer: true, min: 1 })!,
    lr: numberOption(values.lr ?? "1e-3", "lr", { min: 0 })!,
    seed: numberOption(values.seed ?? "0", "seed", { integer: true, min: 0 })!,
    ema: numberOption(values.ema, "ema", { min: 0 }) ?? null,
    sampleEvery: numberOption(values["sample-every"], "sample-every", { integer: true, min: 0 })!,
    subset: numberOption(values.subset, "subset", { integer: true, min: 1 }),
    snapshots: new Set(snapshots),
    resume: values.resume!,
    maxMinutes: numberOption(values["max-minutes"], "max-minutes", { min: 0 }),
    schedule: choiceOption(values.schedule ?? "linear", "schedule", ["linear", "cosine"] as const)!,
    ...objective,
  };
}

/** The data to train on: --images with --labels, --images alone (no labels: unconditional), or the project's set. */
export function trainingFiles(args: { images?: string; labels?: string }): { dataset: SpriteDataset; source: string } {
  const shown = (path: string) => relative(PROJECT_ROOT, path);
  if (args.images !== undefined && args.labels !== undefined) {
    return { dataset: loadSpriteDataset(args.images, args.labels), source: `${shown(args.images)} + ${shown(args.labels)}` };
  }
  if (args.images !== undefined) return { dataset: loadImagesOnlyDataset(args.images), source: shown(args.images) };
  const files = ensureSpriteSet();
  return { dataset: loadSpriteDataset(files.images, files.labels), source: `${shown(files.images)} + ${shown(files.labels)}` };
}

type TrainArgs = NonNullable<ReturnType<typeof parseTrainArgs>>;

/** A run set up: its data record, the trainer (which holds the model), and what to call one image in messages. */
interface PreparedRun {
  data: DataInfo;
  trainer: Trainer<TrainableNoiseModel>;
  imageNoun: string;
}

/** The recipe and schedule the options give a sprite run (the course's, and the text model's). */
function spriteRecipe(args: TrainArgs, useContext: boolean): { config: Partial<TrainConfig>; outChannels: number; schedule: Schedule } {
  const config: Partial<TrainConfig> = {
    epochs: args.epochs,
    batchSize: args.batch,
    learningRate: args.lr,
    useContext,
    seed: args.seed,
    emaDecay: args.ema,
    sampleEvery: args.sampleEvery,
    loss: args.loss,
    variance: args.variance,
    timesteps: args.timesteps,
  };
  const schedule = args.schedule === "cosine" ? cosineSchedule({ T: courseSchedule.T }) : courseSchedule;
  return { config, outChannels: args.variance === "learned" ? 6 : 3, schedule };
}

/** The course's run: ContextUnet on the sprites (or --images), the options' recipe and schedule. */
function spriteRun(args: TrainArgs): PreparedRun {
  const files = trainingFiles(args);
  let dataset = files.dataset;
  if (args.subset !== undefined) dataset = seededSubset(dataset, args.subset, args.seed);
  const data: DataInfo = { fingerprint: fingerprint(dataset), count: dataset.count, source: files.source };
  const { config, outChannels, schedule } = spriteRecipe(args, args.context);
  const trainer = new Trainer(new ContextUnet({ outChannels }, args.seed), spriteTrainingData(dataset), config, schedule);
  return { data, trainer, imageNoun: "sprites" };
}

/**
 * The text run: a TextContextUnet (captionedModelOptions' sizes) on the sprites of --sprites DIR
 * with their captions as context, the --context recipe. Throws, saying how to make them, when the
 * captions file is missing.
 */
function textRun(args: TrainArgs): PreparedRun {
  const dir = args.sprites;
  let captions: SpriteCaptions;
  try {
    captions = loadSpriteCaptions(dir);
  } catch (error) {
    throw new Error(`--text trains on the sprites' captions: ${(error as Error).message}`);
  }
  const files = ensureSpriteSet(dir);
  const dataset = loadSpriteDataset(files.images, files.labels);
  const { config, outChannels, schedule } = spriteRecipe(args, true);
  const model = new TextContextUnet({ ...captionedModelOptions(captions), unet: { outChannels } }, args.seed);
  try {
    const heldOut = heldOutOption(captions, args.holdOut, args.seed);
    const training = captionedTrainingData(dataset, captions, { tokenizer: model.tokenizer, maxTokens: model.contextSize, seed: args.seed, subset: args.subset, heldOut });
    const source = `${relative(PROJECT_ROOT, files.images)} + ${relative(PROJECT_ROOT, join(dir, SPRITE_CAPTIONS_FILE))}`;
    const data: DataInfo = {
      fingerprint: training.fingerprint,
      count: training.count,
      source,
      ...(heldOut.length > 0 ? { heldOut: heldOut.map(({ kind, colour, prompt }) => ({ kind, colour, prompt })) } : {}),
    };
    return { data, trainer: new Trainer(model, training, config, schedule), imageNoun: "captioned sprites" };
  } catch (error) {
    model.dispose();
    throw error;
  }
}

/** The pairs --hold-out N leaves out of a text run (none for 0); the error says what the set allows. */
function heldOutOption(captions: SpriteCaptions, count: number, seed: number): HeldOutPair[] {
  if (count === 0) return [];
  try {
    return heldOutPairs(captions, { count, seed });
  } catch (error) {
    if (!(error instanceof TooFewHeldOutPairsError)) throw error;
    throw new Error(
      `--hold-out ${count}: heldOutPairs: only ${error.available} kind-and-colour pairs can be held out with at least ${error.minBases} bases each ` +
        `(asked for ${count}). Give a smaller --hold-out, or --hold-out 0 to train on every image.`,
    );
  }
}

/** A config file's run: the attention UNet on the set it names, its schedule and recipe. */
function configRun(config: DdpmConfig, file: string, args: TrainArgs): PreparedRun {
  const { dataset, source } = loadDdpmDataset(config, file);
  const data: DataInfo = { fingerprint: fingerprint(dataset), count: dataset.count, source };
  return { data, trainer: ddpmTrainer(config, spriteTrainingData(dataset), { sampleEvery: args.sampleEvery }), imageNoun: `${config.dataset.name} images` };
}

/** The text model's sizes, and its grid's prompts when it draws one, for the log. */
function describeTextModel(model: TextContextUnet, trainer: Trainer<TrainableNoiseModel>): string {
  const { encoder } = model.config;
  const prompts = trainer.config.sampleEvery > 0 ? `; sample grid prompts ${trainer.data.sampleGridRows!.map((row) => `"${row.title}"`).join(", ")}` : "";
  return (
    `text model: ${model.tokenizer.words.length} words, ${encoder.maxTokens} tokens a caption, embeddings ${encoder.embeddingWidth} -> ` +
    `MLP ${encoder.hiddenWidth} -> context ${encoder.contextSize}, caption dropout ${trainer.config.contextDropout}${prompts}`
  );
}

/** The text beside a grid of prompts: which prompt each row shows. */
function gridRowsText(rowTitles: readonly string[]): string {
  return `${rowTitles.map((title, r) => `row ${r + 1}: ${title}`).join("\n")}\n`;
}

async function main(): Promise<void> {
  const args = parseTrainArgs(process.argv.slice(2));
  if (!args) return console.log(USAGE);
  const { out, snapshots, ddpmConfig } = args;
  const backend = await initBackend();
  const log = new ProgressLine();
  log.log(describeBackend(backend));

  const { data, trainer, imageNoun } = ddpmConfig ? configRun(ddpmConfig, args.configFile!, args) : args.text ? textRun(args) : spriteRun(args);
  const { model } = trainer;
  if (model instanceof TextContextUnet) log.log(describeTextModel(model, trainer));
  if (data.heldOut) log.log(`held out: the images of ${data.heldOut.length} kind-and-colour pairs, ${data.heldOut.map((pair) => `"${pair.prompt}"`).join(", ")}`);
  if (args.resume && existsSync(join(out, MANIFEST_FILE))) {
    resumeTraining(out, trainer, data);
    log.log(`resumed from ${out} at epoch ${trainer.position.epoch}, step ${trainer.position.globalStep}`);
  }
  log.log(`training on ${data.count} ${imageNoun}, ${trainer.stepsPerEpoch} steps per epoch, ${model.parameterCount} parameters`);

  const shouldStop = trainingStop(log, args.maxMinutes);
  const started = Date.now();
  const stepsAtStart = trainer.position.globalStep;
  const totalSteps = trainer.config.epochs * trainer.stepsPerEpoch;

  const { completed } = await trainer.run({
    shouldStop,
    onStep: (r) => {
      const rate = (r.globalStep - stepsAtStart) / ((Date.now() - started) / 1000);
      const eta = (totalSteps - r.globalStep) / rate;
      log.update(
        `epoch ${r.epoch + 1}/${trainer.config.epochs} ${progressBar(r.stepInEpoch, r.stepsPerEpoch)} ` +
          `loss ${r.loss.toFixed(4)} lr ${r.learningRate.toExponential(2)} ${r.imagesPerSecond.toFixed(0)} img/s ETA ${formatDuration(eta)}`,
      );
    },
    onSamples: (epoch, samples, rowTitles) => {
      mkdirSync(join(out, "samples"), { recursive: true });
      const file = join(out, "samples", `epoch-${String(epoch).padStart(2, "0")}.png`);
      writeFileSync(file, renderGridPng(samples, { rows: rowTitles ? rowTitles.length : trainer.config.useContext ? model.contextSize : 4 }));
      if (rowTitles) writeFileSync(file.replace(/\.png$/, ".txt"), gridRowsText(rowTitles));
      log.log(`wrote ${file}${rowTitles ? ` (rows: ${rowTitles.map((title) => `"${title}"`).join(", ")}; also in ${basename(file, ".png")}.txt)` : ""}`);
    },
    onEpoch: async (r) => {
      await saveTrainingCheckpoint(out, trainer, data, false, ddpmConfig);
      if (snapshots.has(r.epoch)) await saveTrainingCheckpoint(join(out, "snapshots", `epoch-${String(r.epoch).padStart(2, "0")}`), trainer, data, true, ddpmConfig);
      writeTrainingLog(out, trainer, backend.name, data, args.configFile);
      log.log(
        `epoch ${r.epoch} done: mean loss ${r.meanLoss.toFixed(5)}, ${r.seconds.toFixed(0)} s, ` +
          `${r.imagesPerSecond.toFixed(1)} img/s, lr ${r.learningRate.toExponential(2)} (checkpoint saved)`,
      );
    },
  });
  if (!completed) {
    await saveTrainingCheckpoint(out, trainer, data, false, ddpmConfig);
    log.log(`stopped at epoch ${trainer.position.epoch}, step ${trainer.position.globalStep}; resume with --resume`);
  }
  writeTrainingLog(out, trainer, backend.name, data, args.configFile);
  trainer.dispose();
  model.dispose();
}

/** training-log.md beside the weights: loss per epoch, wall time, backend (and the config file, for a config's run). */
function writeTrainingLog(out: string, trainer: Trainer<TrainableNoiseModel>, backend: string, data: DataInfo, configFile?: string): void {
  mkdirSync(out, { recursive: true });
  const c = trainer.config;
  const rows = trainer.history.map(
    (h) => `| ${h.epoch} | ${h.meanLoss.toFixed(5)} | ${h.learningRate.toExponential(2)} | ${h.seconds.toFixed(0)} | ${h.imagesPerSecond.toFixed(1)} |`,
  );
  const total = trainer.history.reduce((s, h) => s + h.seconds, 0);
  const text = [
    `# Training log`,
    ``,
    `- model: ${architectureOf(trainer.model).name}, ${c.useContext ? `${trainer.model instanceof TextContextUnet ? "captions as " : ""}context (dropout ${c.contextDropout})` : "unconditional"}; backend ${backend}; tfjs ${tf.version_core}`,
    ...(configFile === undefined ? [] : [`- config: ${configFile} (recorded whole in the manifest)`]),
    ...(trainer.model instanceof TextContextUnet ? [`- ${describeTextModel(trainer.model, trainer)}`] : []),
    `- data: ${data.count} ${configFile === undefined ? "sprites" : "images"} (fingerprint ${data.fingerprint}), ${data.source}`,
    ...(data.heldOut ? [`- held out (kind and main colour, never trained on): ${data.heldOut.map((pair) => `"${pair.prompt}"`).join(", ")}`] : []),
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
