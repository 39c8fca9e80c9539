/**
 * npm run edit -- --checkpoint DIR (--image FILE.png | --from-set I,J | --sketch NAME) --method replace|repaint|sdedit
 *                 [--mask PRESET|FILE.json] [--t0 T] [--sampler ...] --out grid.png
 * Edits sprites with a trained model, without retraining it: inpainting (replacement or RePaint)
 * fills a masked region, SDEdit redraws a sprite or a sketch from step t0. Writes a grid with one
 * row per input: the original, the input the model saw (masked, or noised to t0), then --n results.
 * Every option is checked before the model is loaded.
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import * as tf from "@tensorflow/tfjs-core";
import { describeBackend, initBackend } from "../lib/backend";
import { sampleTensors } from "../lib/data/dataset";
import { addNoise } from "../lib/diffusion/forward";
import { type SamplerChoice, parseSamplerName, samplerLabel } from "../lib/diffusion/samplers";
import { maskedInput } from "../lib/editing/editingMetrics";
import { imageToImage } from "../lib/editing/imageToImage";
import { parseInpaintMethod, inpaint } from "../lib/editing/inpaint";
import { type InpaintMask, MASK_PRESETS, maskFromArray, maskPreset } from "../lib/editing/masks";
import { SKETCHES, drawSketch, sketchByName } from "../lib/editing/sketch";
import { realSpriteSet } from "../lib/metrics/realSprites";
import { renderGif } from "../lib/render/gif";
import { renderGridPng } from "../lib/render/grid";
import { readSpriteImage } from "../lib/render/readPng";
import { loadModel, parseWeightChoice } from "../lib/train/trainingCheckpoint";
import { checkOutputFile, numberOption, rejectTogether, requirePartner, writeOutputFile } from "./arguments";
import { ProgressLine, progressBar } from "./progressLine";
import { contextFor } from "./sample";
import { seededNormal } from "../lib/seededNormal";

const USAGE = `Usage: npm run edit -- --checkpoint DIR INPUT --method METHOD --out grid.png [options]
  INPUT, one of:
  --image FILE.png     a ${16}x${16} sprite image
  --from-set I,J,...   sprites of the project's set by index
  --sketch NAME        a rough sketch drawn by code: ${Object.keys(SKETCHES).join(", ")}
  --method replace|repaint|sdedit   (default replace)
  --mask PRESET|FILE.json   replace/repaint: the hidden region, one of ${MASK_PRESETS.join(", ")}
                       or a JSON file holding a 16x16 array of rows, 1 = known, 0 = to generate (default centre-square)
  --t0 T               sdedit: how far to noise the input, 0..T (default T / 2)
  --jump-length J      repaint: chain steps per jump back (default 10)
  --resamplings R      repaint: passes over each stretch (default 5)
  --sampler ddpm|ddim|ddpm-no-noise   the chain the edit walks (default ddim with --steps 100 --eta 1:
                       the DDPM posterior on a grid of 100 steps, as the lesson and evaluate-editing)
  --steps N, --eta X   DDIM only
  --n N                results per input (default 4)
  --context SPEC       context models: classes, one per input (cycled), e.g. side-facing; default none
  --guidance W         classifier-free guidance weight (context models, with --context)
  --seed S             seed (default 0)
  --weights W          auto (default: the EMA weights when the checkpoint keeps them), ema or raw
  --gif FILE           also write the first input's edit, every fifth move, as an animated GIF`;

/** The command's options, checked; null for --help. */
export function parseEditArgs(args: string[]) {
  const { values: a } = parseArgs({
    args,
    options: {
      checkpoint: { type: "string" }, out: { type: "string" }, image: { type: "string" }, "from-set": { type: "string" },
      sketch: { type: "string" }, method: { type: "string", default: "replace" }, mask: { type: "string" }, t0: { type: "string" },
      "jump-length": { type: "string" }, resamplings: { type: "string" }, sampler: { type: "string", default: "ddim" },
      steps: { type: "string" }, eta: { type: "string" }, n: { type: "string", default: "4" }, context: { type: "string" },
      guidance: { type: "string" }, seed: { type: "string", default: "0" }, weights: { type: "string", default: "auto" },
      gif: { type: "string" }, help: { type: "boolean", default: false },
    },
  });
  if (a.help) return null;
  if (!a.checkpoint || !a.out) throw new Error(`--checkpoint and --out are required.\n${USAGE}`);
  checkOutputFile(a.out, "--out", [".png"]);
  if (a.gif !== undefined) checkOutputFile(a.gif, "--gif", [".gif"]);
  const inputs = (["image", "from-set", "sketch"] as const).filter((key) => a[key] !== undefined);
  if (inputs.length !== 1) throw new Error(`Give exactly one input, --image FILE.png, --from-set I,J or --sketch NAME (got ${inputs.length === 0 ? "none" : inputs.map((k) => `--${k}`).join(" and ")}).`);
  const sdedit = a.method === "sdedit";
  if (!sdedit) parseInpaintMethod(a.method!);
  if (sdedit) rejectTogether(a, "t0", ["mask", "jump-length", "resamplings"]);
  else requireNot(a.t0, "--t0 belongs to --method sdedit; drop it, or use --method sdedit");
  if (a.method !== "repaint" && (a["jump-length"] !== undefined || a.resamplings !== undefined)) {
    throw new Error("--jump-length and --resamplings belong to --method repaint; drop them or use it.");
  }
  requirePartner(a, "guidance", "context", "classifier-free guidance steers toward a context, e.g. --context side-facing");
  if (a.sketch !== undefined) sketchByName(a.sketch);
  const sampler = parseSamplerName(a.sampler!);
  const ddim = sampler === "ddim";
  const choice: SamplerChoice = { sampler, steps: numberOption(a.steps ?? (ddim ? "100" : undefined), "steps", { integer: true, min: 1 }), eta: numberOption(a.eta ?? (ddim ? "1" : undefined), "eta", { min: 0 }) };
  return {
    checkpoint: a.checkpoint, out: a.out, gif: a.gif, image: a.image, sketch: a.sketch,
    fromSet: a["from-set"] === undefined ? undefined : setIndices(a["from-set"]),
    method: a.method as "replace" | "repaint" | "sdedit",
    mask: sdedit ? null : readMask(a.mask ?? "centre-square"),
    t0: numberOption(a.t0, "t0", { integer: true, min: 0 }),
    repaint: { jumpLength: numberOption(a["jump-length"], "jump-length", { integer: true, min: 1 }), resamplings: numberOption(a.resamplings, "resamplings", { integer: true, min: 1 }) },
    choice, n: numberOption(a.n, "n", { integer: true, min: 1 })!, context: a.context ?? "none",
    guidance: numberOption(a.guidance, "guidance", { min: 0 }) ?? 0, seed: numberOption(a.seed, "seed", { integer: true, min: 0 })!, weights: parseWeightChoice(a.weights!),
  };
}

function requireNot(value: string | undefined, message: string): void {
  if (value !== undefined) throw new Error(message);
}

function setIndices(text: string): number[] {
  return text.split(",").map((part) => numberOption(part, "from-set", { integer: true, min: 0 })!);
}

/** A preset name, or a .json file holding the mask as rows of 0/1 (parsed as data, never run). */
function readMask(spec: string): InpaintMask {
  if (!spec.toLowerCase().endsWith(".json")) return maskPreset(spec);
  let values: unknown;
  try {
    values = JSON.parse(readFileSync(spec, "utf8"));
  } catch (error) {
    throw new Error(`--mask ${spec}: cannot be read as JSON (${(error as Error).message}); write a 16x16 array of rows of 0 and 1.`);
  }
  if (!Array.isArray(values)) throw new Error(`--mask ${spec}: holds ${typeof values}, not an array; write a 16x16 array of rows of 0 and 1.`);
  return maskFromArray(values as number[][], { name: spec });
}

type EditArgs = NonNullable<ReturnType<typeof parseEditArgs>>;

/** The inputs [N, 16, 16, 3] in [-1, 1]; the caller owns them. Indices past the set's end fail with its size. */
async function readInputs(a: EditArgs): Promise<tf.Tensor4D> {
  if (a.image !== undefined) return readSpriteImage(a.image);
  if (a.sketch !== undefined) return drawSketch(sketchByName(a.sketch));
  const { dataset } = realSpriteSet();
  const outside = a.fromSet!.filter((i) => i >= dataset.count);
  if (outside.length > 0) throw new Error(`--from-set: ${outside.join(", ")} outside the sprite set's 0..${dataset.count - 1}.`);
  const { images, labels } = sampleTensors(dataset, a.fromSet!);
  labels.dispose();
  return images;
}

async function main(): Promise<void> {
  const a = parseEditArgs(process.argv.slice(2));
  if (!a) return console.log(USAGE);
  const inputs = await readInputs(a);
  const log = new ProgressLine(process.stderr, 2000);
  log.log(describeBackend(await initBackend()));
  const { model, schedule, weightsLabel } = loadModel(a.checkpoint, { weights: a.weights });
  log.log(`${a.checkpoint}: ${weightsLabel}`);
  const [count, height, width, channels] = inputs.shape;
  const t0 = a.t0 ?? schedule.T / 2;
  // n results per input: each input repeated n times, one context per input.
  const repeated = tf.tidy(() => tf.reshape(tf.tile(tf.expandDims(inputs, 1), [1, a.n, 1, 1, 1]), [count * a.n, height, width, channels])) as tf.Tensor4D;
  const context = contextFor(a.context, count * a.n, false, model.config.nContext);
  const tensors: tf.Tensor[] = [inputs, repeated, ...(context ? [context] : [])];
  try {
    const label = `${a.method} with ${samplerLabel({ ...a.choice, guidance: a.guidance }, schedule)}`;
    const began = Date.now();
    const common = { ...a.choice, guidance: a.guidance, seed: a.seed, saveFrame: a.gif ? ({ move }: { move: number }) => move % 5 === 0 : undefined,
      onMove: ({ move, moves }: { move: number; moves: number }) => log.update(`${label} ${progressBar(move, moves)}`) };
    const result = a.method === "sdedit"
      ? await imageToImage(model, schedule, repeated, context, { ...common, t0 })
      : await inpaint(model, schedule, repeated, a.mask!, context, { ...common, method: a.method, repaint: a.method === "repaint" ? definedOnly(a.repaint) : undefined });
    tensors.push(result.images, ...(result.frames ? [result.frames] : []));
    log.log(`${label}: ${count * a.n} sprites, ${result.modelEvaluations} model evaluations each, ${((Date.now() - began) / 1000).toFixed(1)} s`);
    const seen = a.method === "sdedit" ? tf.tidy(() => addNoise(schedule, inputs, Array(count).fill(t0), seededNormal<tf.Rank.R4>(inputs.shape, a.seed))) : maskedInput(inputs, a.mask!);
    tensors.push(seen);
    const grid = tf.tidy(() => tf.reshape(tf.concat([tf.expandDims(inputs, 1), tf.expandDims(seen, 1), tf.reshape(result.images, [count, a.n, height, width, channels])], 1), [count * (a.n + 2), height, width, channels])) as tf.Tensor4D;
    tensors.push(grid);
    const captions = ["original", a.method === "sdedit" ? `noised, t0 = ${t0}` : "masked", ...Array.from({ length: a.n }, (_, i) => `result ${i + 1}`)];
    writeOutputFile(a.out, renderGridPng(grid, { cols: a.n + 2, columnCaptions: captions }));
    log.log(`wrote ${a.out}`);
    if (a.gif && result.frames) {
      const first = tf.tidy(() => tf.slice(result.frames!, [0, 0], [-1, 1])) as tf.Tensor5D;
      tensors.push(first);
      writeOutputFile(a.gif, renderGif(first, { rows: 1 }));
      log.log(`wrote ${a.gif} (${first.shape[0]} frames)`);
    }
  } finally {
    tf.dispose(tensors);
    model.dispose();
  }
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

if (typeof require !== "undefined" && require.main === module) {
  main().catch((error) => {
    console.error(`edit: ${(error as Error).message}`);
    process.exit(1);
  });
}
