/**
 * npm run sample-ardm -- --checkpoint DIR --k 1|4|16|64 [--n 32] [--seed 0] [--rows R]
 *                        [--weights auto|ema|raw] [--engine auto|onnx|tfjs] --out FILE.png [--gif FILE.gif]
 * Draws sprites from an ARDM checkpoint by Algorithm 2 (Hoogeboom et al. 2022), k variables per
 * network call in a random order per sprite (k = 1: one at a time, D = 768 calls; larger k:
 * parallel decoding, ceil(D / k) calls), to a PNG grid, and optionally a GIF of the sprites
 * appearing (undecoded channels mid grey). Prints the seconds taken. The network's logits come
 * from ONNX Runtime when it can (its ONNX graph built from the same weights, src/lib/onnx; --engine).
 */
import { parseArgs } from "node:util";
import * as tf from "@tensorflow/tfjs-core";
import { loadArdm } from "../lib/ardm/checkpoint";
import { variablesToImages } from "../lib/ardm/images";
import { sampleArdm } from "../lib/ardm/sampling";
import type { ArdmNetwork } from "../lib/ardm/network";
import { type SamplingEngine, ardmNetworkEngine } from "../lib/onnx/samplingEngine";
import { describeBackend, initBackend } from "../lib/backend";
import { renderGif } from "../lib/render/gif";
import { renderGridPng } from "../lib/render/grid";
import { parseWeightChoice } from "../lib/train/trainingCheckpoint";
import { ENGINE_OPTIONS, ENGINE_USAGE, checkOutputFile, engineOption, numberOption, writeOutputFile } from "./arguments";
import { ProgressLine, formatDuration, progressBar } from "./progressLine";

const USAGE = `Usage: npm run sample-ardm -- --checkpoint DIR --out FILE.png [options]
  --checkpoint DIR   an ARDM checkpoint folder (npm run train-ardm)
  --k K              variables decoded per network call, 1..768 (default 1: Algorithm 2, 768 calls)
  --n N              sprites to draw (default 32)
  --seed N           seed of the orders and the draws (default 0)
  --rows R           rows of the grid (default: about square)
  --weights W        auto (default: the EMA weights when kept), ema or raw
  --out FILE.png     the grid
  --gif FILE.gif     also an animation of the decoding (about 24 frames)
${ENGINE_USAGE}
                     (the transformer and the conv UNet have graphs)`;

/** GIF frames: about this many, evenly over the calls, and the last. */
const GIF_FRAMES = 24;

/** The command's options, checked (output paths first); null for --help. */
export function parseSampleArdmArgs(args: string[]) {
  const { values: a } = parseArgs({
    args,
    options: {
      checkpoint: { type: "string" }, k: { type: "string", default: "1" }, n: { type: "string", default: "32" }, seed: { type: "string", default: "0" },
      rows: { type: "string" }, weights: { type: "string", default: "auto" }, out: { type: "string" }, gif: { type: "string" }, ...ENGINE_OPTIONS,
      help: { type: "boolean", default: false },
    },
  });
  if (a.help) return null;
  if (!a.checkpoint) throw new Error(`--checkpoint is required.\n${USAGE}`);
  if (!a.out) throw new Error(`--out FILE.png is required.\n${USAGE}`);
  checkOutputFile(a.out, "--out", [".png"]);
  if (a.gif !== undefined) checkOutputFile(a.gif, "--gif", [".gif"]);
  return {
    checkpoint: a.checkpoint,
    k: numberOption(a.k, "k", { integer: true, min: 1 })!,
    n: numberOption(a.n, "n", { integer: true, min: 1 })!,
    seed: numberOption(a.seed, "seed", { integer: true, min: 0 })!,
    rows: numberOption(a.rows, "rows", { integer: true, min: 1 }),
    weights: parseWeightChoice(a.weights!),
    out: a.out,
    gif: a.gif,
    engine: engineOption(a),
  };
}

async function main(): Promise<void> {
  const a = parseSampleArdmArgs(process.argv.slice(2));
  if (!a) return console.log(USAGE);
  const log = new ProgressLine();
  log.log(describeBackend(await initBackend()));
  const { network, manifest, weightsLabel } = loadArdm(a.checkpoint, { weights: a.weights });
  let engine: SamplingEngine<ArdmNetwork> | null = null;
  try {
    const D = network.dimensions;
    if (a.k > D) throw new Error(`--k ${a.k}: the model has D = ${D} variables; decode between 1 and ${D} per call.`);
    const { height, width, channels } = network.config;
    const shape = [height, width, channels] as const;
    const calls = Math.ceil(D / a.k);
    const every = Math.max(1, Math.round(calls / GIF_FRAMES));
    log.log(`${a.checkpoint} (epoch ${manifest.training.epoch}, step ${manifest.training.globalStep}, ${weightsLabel}): ${a.n} sprites, k = ${a.k}, ${calls} network calls`);
    engine = await ardmNetworkEngine(network, a.engine, { what: a.checkpoint });
    log.log(`engine: ${engine.reason}`);
    const started = Date.now();
    const result = await sampleArdm(engine.model, {
      count: a.n,
      seed: a.seed,
      perCall: a.k,
      saveFrame: a.gif === undefined ? undefined : (step, steps) => step % every === 0 || step === steps,
      onStep: (step, steps) => log.update(`sampling ${progressBar(step, steps)} ${formatDuration((Date.now() - started) / 1000)}`),
    });
    const seconds = (Date.now() - started) / 1000;
    log.log(`${a.n} sprites in ${seconds.toFixed(1)} s (${formatDuration(seconds)}, ${(seconds / calls).toFixed(3)} s per call on ${engine.engine === "onnx" ? "ONNX Runtime" : tf.getBackend()})`);
    const images = variablesToImages(result.samples.dataSync(), shape);
    result.samples.dispose();
    writeOutputFile(a.out, renderGridPng(images, { rows: a.rows }));
    images.dispose();
    log.log(`wrote ${a.out}`);
    if (a.gif !== undefined) {
      const frames = tf.tidy(() => tf.stack(result.frames.map((f) => variablesToImages(f.values, shape, f.mask))) as tf.Tensor5D);
      writeOutputFile(a.gif, renderGif(frames, { rows: a.rows, normalization: "clip", holdLastSeconds: 1 }));
      frames.dispose();
      log.log(`wrote ${a.gif} (${result.frames.length} frames)`);
    }
  } finally {
    await engine?.dispose();
    network.dispose();
  }
}

if (typeof require !== "undefined" && require.main === module) {
  main().catch((error) => {
    console.error(`sample-ardm: ${(error as Error).message}`);
    process.exit(1);
  });
}
