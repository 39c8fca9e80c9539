/**
 * npm run sample -- --checkpoint models/context --sampler ddim --steps 25 --context 0,1,2,3,4 --out grid.png [--gif anim.gif]
 *                   [--guidance W] [--classifier-guidance S [--guidance-classifier DIR]] [--engine auto|onnx|tfjs]
 * npm run sample -- --checkpoint models/text --prompt "a red potion" [--prompt "..."] [--guidance W] --out grid.png
 * Draws sprites from a checkpoint, on the schedule it was trained with, and writes a PNG grid (and
 * optionally the denoising as a GIF), optionally guided toward the --context classes, or for a
 * text-conditioned checkpoint (npm run train -- --text) toward the --prompt captions. Every option
 * is checked before sampling starts; the guidance classifier's fit and the prompts' words right
 * after loading. A checkpoint of the attention UNet (npm run train -- --config) samples the same
 * way, unconditional, at its own image size (grey images for one channel). The network's forward
 * runs on ONNX Runtime when it can (its ONNX graph from the same weights; --engine), the steps on
 * TensorFlow.js.
 */
import { parseArgs } from "node:util";
import * as tf from "@tensorflow/tfjs-core";
import { describeBackend, initBackend } from "../lib/backend";
import { SPRITE_CLASSES, oneHotContexts } from "../lib/data/dataset";
import { SPRITE_CLASS_NAMES } from "../lib/data/sprites/classes";
import { type GuidanceChoice, type SamplerChoice, parseSamplerName, sample, samplerLabel } from "../lib/diffusion/samplers";
import { checkClassifierClasses, checkClassifierSchedule } from "../lib/guidance/classifierGuidance";
import { DEFAULT_NOISY_CLASSIFIER_DIR, loadNoisyClassifier } from "../lib/guidance/noisyClassifierFile";
import { renderGif } from "../lib/render/gif";
import { renderGridPng } from "../lib/render/grid";
import { AttentionUnet } from "../lib/model/attentionUnet/attentionUnet";
import { type LoadedModel, type LoadedNoiseModel, loadNoiseModel, parseWeightChoice } from "../lib/train/trainingCheckpoint";
import type { ContextUnet } from "../lib/model/contextUnet";
import type { NoiseModel } from "../lib/diffusion/sampling";
import { CLASSIFIER_GUIDANCE_NEEDS_TENSORFLOW, type SamplingEngine, noiseModelEngine } from "../lib/onnx/samplingEngine";
import { TextContextUnet } from "../lib/text/textContextUnet";
import { tokenizeWords } from "../lib/text/tokenizer";
import { ENGINE_OPTIONS, ENGINE_USAGE, checkOutputFile, engineOption, numberOption, onOffOption, requirePartner, writeOutputFile } from "./arguments";
import { ProgressLine, progressBar } from "./progressLine";

/** Sprites per prompt when --n is not given: a grid row each. */
const SPRITES_PER_PROMPT = 8;

const USAGE = `Usage: npm run sample -- --checkpoint DIR --out grid.png [options]
  --checkpoint DIR a ContextUnet checkpoint (sprites), a .pth / .safetensors file, a text-conditioned
                   checkpoint of npm run train -- --text (with --prompt), or an AttentionUnet checkpoint
                   of npm run train -- --config (unconditional: no --context, no guidance)
  --sampler ddpm|ddim|ddpm-no-noise   (default ddim)
  --steps N        steps, dividing the checkpoint's T: DDIM's (default 25), or DDPM's (default T;
                   fewer sample the respaced chain of improved DDPM)
  --eta X          DDIM only: eta (default 0)
  --clip-denoised on|off
                   clip the x_0 estimate to [-1, 1] at every step (DDPM, DDIM; default on where the
                   schedule magnifies eps^'s error in x_0 more than the course's: cosine, T = 1000;
                   off on the course's schedule)
  --n N            number of sprites (default 32; with --prompt, ${SPRITES_PER_PROMPT} per prompt)
  --context SPEC   none (default) | classes, e.g. 0,0,1,4 or hero,food (cycled to n) | "each" (n / 5 of each class)
                   | a vector, e.g. 1,0,0.6,0,0 (with --vector), used for every sprite
  --vector         read --context as one context vector rather than a list of classes
  --prompt TEXT    text-conditioned checkpoints: a caption to draw, e.g. --prompt "a red potion"; repeat
                   it for more: the n sprites are shared out among the prompts in turn, one grid row
                   per prompt by default; without it such a model draws from the empty caption
  --allow-unknown  leave the words a text model does not know out of --prompt, with a warning
                   (default: such a word is an error that lists the words it knows)
  --guidance W     classifier-free guidance weight w >= 0 (context and text models, with --context or
                   --prompt; default 0 = none)
  --classifier-guidance S
                   classifier guidance scale s >= 0: steers each sprite to its --context class
                   (a list of classes) with a noisy-sprite classifier; works on unconditional models
  --guidance-classifier DIR
                   the noisy classifier for --classifier-guidance (default ${DEFAULT_NOISY_CLASSIFIER_DIR})
  --rows R         grid rows (default 4; with --prompt, one per prompt)
  --seed S         seed (default 0)
  --weights W      auto (default: the EMA weights when the checkpoint keeps them), ema or raw
  --gif FILE       also write the denoising frames as an animated GIF
${ENGINE_USAGE}
                     (every sampler and --guidance; ContextUnet, with a learned variance too,
                     AttentionUnet and text checkpoints, their captions encoded on TensorFlow.js)`;

/** A class given by index (0..classes - 1) or, for the sprites' 5, by name ("hero", "food", ...). */
function classIndex(text: string, classes: number): number {
  const byName = classes === SPRITE_CLASSES ? SPRITE_CLASS_NAMES.findIndex((name) => name === text.trim().toLowerCase()) : -1;
  const c = byName >= 0 ? byName : text.trim() === "" ? NaN : Number(text);
  if (!Number.isInteger(c) || c < 0 || c >= classes) {
    throw new Error(`--context: class "${text}" is not in 0..${classes - 1}${classes === SPRITE_CLASSES ? ` nor one of ${SPRITE_CLASS_NAMES.join(", ")}` : ""}.`);
  }
  return c;
}

/** The class of each of n sprites from a --context list (cycled to n) or "each" (n / classes of each). */
export function classesFor(spec: string, n: number, classes: number): number[] {
  if (spec === "each") return Array.from({ length: n }, (_, i) => Math.floor((i * classes) / n));
  const list = spec.split(",").map((c) => classIndex(c, classes));
  return Array.from({ length: n }, (_, i) => list[i % list.length]);
}

export function contextFor(spec: string, n: number, vector: boolean, classes: number): tf.Tensor2D | null {
  if (spec === "none") return null;
  if (vector) {
    const v = spec.split(",").map(Number);
    if (v.length !== classes || v.some((x) => !Number.isFinite(x))) {
      throw new Error(`--context with --vector needs ${classes} numbers, got "${spec}".`);
    }
    return tf.tidy(() => tf.tile(tf.tensor2d(v, [1, classes]), [n, 1]) as tf.Tensor2D);
  }
  return oneHotContexts(classesFor(spec, n, classes), classes);
}

/**
 * The caption of each of n sprites: every prompt n / prompts.length times in turn (the first ones
 * once more when it does not divide), so with n a multiple of the prompts' count and a row per
 * prompt each grid row shows one prompt. Throws when n is smaller than the number of prompts.
 */
export function promptsFor(prompts: readonly string[], n: number): string[] {
  if (n < prompts.length) {
    throw new Error(`--n ${n} draws fewer sprites than the ${prompts.length} prompts: give --n ${prompts.length} or more (without --n, ${SPRITES_PER_PROMPT} per prompt).`);
  }
  return Array.from({ length: n }, (_, i) => prompts[Math.floor((i * prompts.length) / n)]);
}

/** The rules of the options that condition sampling (--context, --prompt, guidance), checked before loading anything. */
function checkConditioningOptions(a: Partial<Record<"context" | "vector" | "prompt" | "allow-unknown" | "guidance" | "classifier-guidance" | "guidance-classifier", string | boolean | string[]>>): void {
  if (a.prompt !== undefined && a.context !== undefined) {
    throw new Error("--prompt gives a text-conditioned model its captions and --context a class model its classes: choose one (the checkpoint decides which it takes).");
  }
  if (a.prompt !== undefined && a["classifier-guidance"] !== undefined) {
    throw new Error("--classifier-guidance steers sprites to --context classes with the noisy-sprite classifier; a text model's --prompt is guided with --guidance W instead.");
  }
  requirePartner(a, "allow-unknown", "prompt", "it says what to do with the unknown words of a --prompt");
  requirePartner(a, "vector", "context", "it says how to read --context's numbers, e.g. --context 1,0,0.6,0,0 --vector");
  if (a.guidance !== undefined && a.context === undefined && a.prompt === undefined) {
    throw new Error('--guidance needs --context or --prompt: classifier-free guidance steers toward a context, e.g. --context each (a class model) or --prompt "a red potion" (a text model).');
  }
  requirePartner(a, "classifier-guidance", "context", "it steers each sprite to its --context class, e.g. --context each or --context hero,food");
  requirePartner(a, "guidance-classifier", "classifier-guidance", "it names the classifier --classifier-guidance S uses");
  if (a["classifier-guidance"] !== undefined && (a.vector || a.context === "none")) {
    throw new Error(`--classifier-guidance steers each sprite to one class: give --context as classes (e.g. each, 0,1 or hero,food), not ${a.vector ? "a --vector" : '"none"'}.`);
  }
}

/** The command's options, checked (paths, partners, numbers); null for --help. */
export function parseSampleArgs(args: string[]) {
  const { values: a } = parseArgs({
    args,
    options: {
      checkpoint: { type: "string" },
      out: { type: "string" },
      sampler: { type: "string", default: "ddim" },
      steps: { type: "string" },
      eta: { type: "string" },
      "clip-denoised": { type: "string" },
      n: { type: "string" },
      context: { type: "string" },
      prompt: { type: "string", multiple: true },
      "allow-unknown": { type: "boolean", default: false },
      vector: { type: "boolean", default: false },
      rows: { type: "string" },
      seed: { type: "string", default: "0" },
      weights: { type: "string", default: "auto" },
      gif: { type: "string" },
      guidance: { type: "string" },
      "classifier-guidance": { type: "string" },
      "guidance-classifier": { type: "string" },
      ...ENGINE_OPTIONS,
      help: { type: "boolean", default: false },
    },
  });
  if (a.help) return null;
  if (!a.checkpoint || !a.out) throw new Error(`--checkpoint and --out are required.\n${USAGE}`);
  checkOutputFile(a.out, "--out", [".png"]);
  if (a.gif !== undefined) checkOutputFile(a.gif, "--gif", [".gif"]);
  checkConditioningOptions(a);
  const engine = engineOption(a);
  if (engine === "onnx" && a["classifier-guidance"] !== undefined) {
    throw new Error("--classifier-guidance runs on TensorFlow.js (the noisy classifier's gradient at every step), so it cannot come with --engine onnx: drop one of them (--guidance W works on ONNX Runtime).");
  }
  const choice: SamplerChoice = {
    sampler: parseSamplerName(a.sampler!),
    steps: numberOption(a.steps, "steps", { integer: true, min: 1 }),
    eta: numberOption(a.eta, "eta", { min: 0 }),
    clipDenoised: onOffOption(a["clip-denoised"], "clip-denoised"),
  };
  const prompts = a.prompt ?? [];
  const n = numberOption(a.n, "n", { integer: true, min: 1 }) ?? (prompts.length > 0 ? SPRITES_PER_PROMPT * prompts.length : 32);
  if (prompts.length > 0) promptsFor(prompts, n);
  return {
    checkpoint: a.checkpoint,
    out: a.out,
    gif: a.gif,
    choice,
    n,
    rows: numberOption(a.rows, "rows", { integer: true, min: 1 }) ?? (prompts.length > 0 ? prompts.length : 4),
    prompts,
    allowUnknown: a["allow-unknown"]!,
    seed: numberOption(a.seed, "seed", { integer: true, min: 0 })!,
    context: a.context ?? "none",
    vector: a.vector!,
    weights: parseWeightChoice(a.weights!),
    guidance: numberOption(a.guidance, "guidance", { min: 0 }) ?? 0,
    classifierGuidance: numberOption(a["classifier-guidance"], "classifier-guidance", { min: 0 }) ?? 0,
    guidanceClassifier: a["guidance-classifier"] ?? DEFAULT_NOISY_CLASSIFIER_DIR,
    engine,
  };
}

type SampleArgs = NonNullable<ReturnType<typeof parseSampleArgs>>;

/**
 * The guidance the options ask for, checked against the checkpoint: w only for a model trained
 * with context; the guidance classifier (loaded here, owned by the caller through `dispose`) of
 * the model's classes and schedule. Labels are the --context classes.
 */
function guidanceFor(a: SampleArgs, loaded: LoadedModel<ContextUnet>): GuidanceChoice & { dispose(): void } {
  const usesContext = loaded.manifest.training?.config.useContext ?? false;
  if (a.guidance > 0 && !usesContext) {
    throw new Error(`--guidance needs a model trained with context, but ${a.checkpoint} was trained without; steer it with --classifier-guidance S instead.`);
  }
  if (a.classifierGuidance === 0) return { guidance: a.guidance, dispose: () => undefined };
  const { classifier, manifest } = loadNoisyClassifier(a.guidanceClassifier);
  try {
    checkClassifierClasses(classifier, loaded.model.config.nContext, `the checkpoint ${a.checkpoint}`);
    checkClassifierClasses(classifier, SPRITE_CLASSES, "the sprites");
    checkClassifierSchedule(manifest.schedule, loaded.schedule, `the checkpoint ${a.checkpoint}`);
    const labels = classesFor(a.context, a.n, classifier.classes);
    return { guidance: a.guidance, classifierGuidance: { classifier, labels, scale: a.classifierGuidance }, dispose: () => classifier.dispose() };
  } catch (error) {
    classifier.dispose();
    throw error;
  }
}

/**
 * The attention UNet takes no context and no guidance (it is unconditional, and the noisy
 * classifier scores 16x16 sprites): throws naming the options it would ignore.
 */
function checkUnconditionalOptions(a: SampleArgs, loaded: LoadedModel<AttentionUnet>): void {
  const given = [
    ...(a.context !== "none" ? ["--context"] : []),
    ...(a.prompts.length > 0 ? ["--prompt"] : []),
    ...(a.guidance > 0 ? ["--guidance"] : []),
    ...(a.classifierGuidance > 0 ? ["--classifier-guidance"] : []),
  ];
  if (given.length > 0) {
    const [height, width, channels] = loaded.model.imageShape;
    throw new Error(`${a.checkpoint} holds an unconditional AttentionUnet (${height}x${width}x${channels} images, no classes): drop ${given.join(", ")}.`);
  }
}

/** What a text-conditioned model is given: the --prompt captions' token ids (null: the empty caption), and what to tell the user. */
interface TextConditioning {
  context: tf.Tensor2D | null;
  guidance: ReturnType<typeof guidanceFor>;
  notes: string[];
}

/**
 * The captions of a text-conditioned model: --prompt as token ids, one row per sprite (promptsFor),
 * and classifier-free guidance toward them; refuses --context (classes). An unknown word fails
 * with the tokenizer's message, unless --allow-unknown leaves it out (the encoder ignores <unk>).
 */
function textConditioning(a: SampleArgs, loaded: LoadedModel<TextContextUnet>): TextConditioning {
  const { model } = loaded;
  if (a.context !== "none") {
    throw new Error(
      `${a.checkpoint} holds a text-conditioned model (TextContextUnet), which takes captions, not classes: drop --context ${a.context} and ` +
        'give what to draw with --prompt, e.g. --prompt "a red potion" (repeat it for more rows).',
    );
  }
  const guidance = { guidance: a.guidance, dispose: () => undefined };
  if (a.prompts.length === 0) return { context: null, guidance, notes: ["no --prompt: drawing from the empty caption (unconditional)"] };
  const notes: string[] = [];
  for (const prompt of a.prompts) {
    const unknown = model.tokenizer.unknownWords(prompt);
    if (unknown.length === 0 || !a.allowUnknown) continue;
    const known = tokenizeWords(prompt).filter((word) => !unknown.includes(word));
    notes.push(
      `warning: --allow-unknown leaves ${unknown.map((w) => `"${w}"`).join(", ")} out of "${prompt}": ` +
        (known.length > 0 ? `the model reads "${known.join(" ")}"` : "nothing is left, so it draws from the empty caption (unconditional)"),
    );
  }
  try {
    const context = model.captionContexts(promptsFor(a.prompts, a.n), { unknown: a.allowUnknown ? "unk" : "error" });
    if (a.n % a.prompts.length === 0 && a.rows === a.prompts.length) notes.push(`rows: ${a.prompts.map((p, r) => `${r + 1} "${p}"`).join(", ")}`);
    return { context, guidance, notes };
  } catch (error) {
    const hint = a.allowUnknown ? "" : " (On the command line, --allow-unknown leaves unknown words out, with a warning.)";
    throw new Error(`--prompt: ${(error as Error).message}${hint}`);
  }
}

/** The context and guidance the options ask for, checked against the model (the caller disposes both), and notes for the log. */
function conditioningFor(a: SampleArgs, loaded: LoadedNoiseModel): { context: tf.Tensor2D | null; guidance: ReturnType<typeof guidanceFor>; notes: string[] } {
  if (loaded.model instanceof AttentionUnet) {
    checkUnconditionalOptions(a, loaded as LoadedModel<AttentionUnet>);
    return { context: null, guidance: { guidance: 0, dispose: () => undefined }, notes: [] };
  }
  if (loaded.model instanceof TextContextUnet) return textConditioning(a, loaded as LoadedModel<TextContextUnet>);
  if (a.prompts.length > 0) {
    throw new Error(
      `${a.checkpoint} holds a class-conditioned ContextUnet (${(loaded.model as ContextUnet).config.nContext} classes), which takes no captions: ` +
        "drop --prompt and give classes with --context, e.g. --context each or --context hero,food (--prompt is for checkpoints of npm run train -- --text).",
    );
  }
  const contextModel = loaded as LoadedModel<ContextUnet>;
  const guidance = guidanceFor(a, contextModel);
  try {
    // Classifier guidance steers an unconditional model by its labels alone: it gets no context.
    const steeredByClassifierOnly = a.classifierGuidance > 0 && !(loaded.manifest.training?.config.useContext ?? false);
    return { context: steeredByClassifierOnly ? null : contextFor(a.context, a.n, a.vector, contextModel.model.config.nContext), guidance, notes: [] };
  } catch (error) {
    guidance.dispose();
    throw error;
  }
}

async function main(): Promise<void> {
  const a = parseSampleArgs(process.argv.slice(2));
  if (!a) return console.log(USAGE);
  const log = new ProgressLine(process.stderr, 2000);
  log.log(describeBackend(await initBackend()));
  const loaded = loadNoiseModel(a.checkpoint, { weights: a.weights });
  const { model, schedule } = loaded;
  log.log(`${a.checkpoint}: ${loaded.weightsLabel}`);
  let context: tf.Tensor2D | null = null;
  let guidance: ReturnType<typeof guidanceFor> | null = null;
  let engine: SamplingEngine<NoiseModel> | null = null;
  try {
    // Also checks the choice against the checkpoint's T.
    const label = samplerLabel({ ...a.choice, guidance: a.guidance, classifierGuidance: { scale: a.classifierGuidance } }, schedule);
    let notes: string[];
    ({ context, guidance, notes } = conditioningFor(a, loaded));
    for (const note of notes) log.log(note);
    const needsTensorFlow = a.classifierGuidance > 0 ? CLASSIFIER_GUIDANCE_NEEDS_TENSORFLOW : undefined;
    engine = await noiseModelEngine(model, a.engine, { what: a.checkpoint, needsTensorFlow });
    log.log(`engine: ${engine.reason}`);
    const [height, width, channels] = model.imageShape;
    const began = Date.now();
    const result = await sample(engine.model, schedule, { count: a.n, seed: a.seed, imageShape: [height, width, channels] }, context, {
      ...a.choice,
      guidance: guidance.guidance,
      classifierGuidance: guidance.classifierGuidance,
      seed: a.seed,
      onStep: ({ step, steps }) => log.update(`${label} ${progressBar(step, steps)}`),
      ...(a.gif ? {} : { saveFrame: () => false }),
    });
    log.log(`${label}${engine.engine === "onnx" ? " on ONNX Runtime" : ""}: ${a.n} ${model instanceof AttentionUnet ? `${height}x${width} images` : "sprites"} in ${((Date.now() - began) / 1000).toFixed(1)} s`);
    writeOutputFile(a.out, renderGridPng(result.samples, { rows: a.rows }));
    log.log(`wrote ${a.out}`);
    if (a.gif && result.frames) {
      writeOutputFile(a.gif, renderGif(result.frames, { rows: a.rows }));
      log.log(`wrote ${a.gif} (${result.frames.shape[0]} frames)`);
    }
    tf.dispose([result.samples, ...(result.frames ? [result.frames] : [])]);
  } finally {
    context?.dispose();
    guidance?.dispose();
    await engine?.dispose();
    model.dispose();
  }
}

if (typeof require !== "undefined" && require.main === module) {
  main().catch((error) => {
    console.error(`sample: ${(error as Error).message}`);
    process.exit(1);
  });
}
