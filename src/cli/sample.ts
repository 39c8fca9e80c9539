/**
 * npm run sample -- --checkpoint models/context --sampler ddim --steps 25 --context 0,1,2,3,4 --out grid.png [--gif anim.gif]
 * Draws sprites from a checkpoint, on the schedule it was trained with, and writes a PNG grid (and
 * optionally the denoising as a GIF). Every option is checked before sampling starts.
 */
import { parseArgs } from "node:util";
import * as tf from "@tensorflow/tfjs-core";
import { describeBackend, initBackend } from "../lib/backend";
import { oneHotContexts } from "../lib/data/dataset";
import { type SamplerChoice, parseSamplerName, sample, samplerLabel } from "../lib/diffusion/samplers";
import { renderGif } from "../lib/render/gif";
import { renderGridPng } from "../lib/render/grid";
import { loadModel } from "../lib/train/trainingCheckpoint";
import { checkOutputFile, numberOption, requirePartner, writeOutputFile } from "./arguments";
import { ProgressLine, progressBar } from "./progressLine";

const USAGE = `Usage: npm run sample -- --checkpoint DIR --out grid.png [options]
  --sampler ddpm|ddim|ddpm-no-noise   (default ddim)
  --steps N        DDIM only: steps, must divide the checkpoint's T (default 25)
  --eta X          DDIM only: eta (default 0)
  --n N            number of sprites (default 32)
  --context SPEC   none (default) | classes, e.g. 0,0,1,4 (cycled to n) | "each" (n / 5 of each class)
                   | a vector, e.g. 1,0,0.6,0,0 (with --vector), used for every sprite
  --vector         read --context as one context vector rather than a list of classes
  --rows R         grid rows (default 4)
  --seed S         seed (default 0)
  --ema            use the checkpoint's EMA weights if it has them
  --gif FILE       also write the denoising frames as an animated GIF`;

function contextFor(spec: string, n: number, vector: boolean, classes: number): tf.Tensor2D | null {
  if (spec === "none") return null;
  if (vector) {
    const v = spec.split(",").map(Number);
    if (v.length !== classes || v.some((x) => !Number.isFinite(x))) {
      throw new Error(`--context with --vector needs ${classes} numbers, got "${spec}".`);
    }
    return tf.tidy(() => tf.tile(tf.tensor2d(v, [1, classes]), [n, 1]) as tf.Tensor2D);
  }
  const list = spec === "each" ? Array.from({ length: classes }, (_, c) => c) : spec.split(",").map(Number);
  const bad = list.find((c) => !Number.isInteger(c) || c < 0 || c >= classes);
  if (bad !== undefined) throw new Error(`--context: class ${bad} is not in 0..${classes - 1}.`);
  const perSample = Array.from({ length: n }, (_, i) => (spec === "each" ? list[Math.floor((i * classes) / n)] : list[i % list.length]));
  return oneHotContexts(perSample, classes);
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
      n: { type: "string", default: "32" },
      context: { type: "string" },
      vector: { type: "boolean", default: false },
      rows: { type: "string", default: "4" },
      seed: { type: "string", default: "0" },
      ema: { type: "boolean", default: false },
      gif: { type: "string" },
      help: { type: "boolean", default: false },
    },
  });
  if (a.help) return null;
  if (!a.checkpoint || !a.out) throw new Error(`--checkpoint and --out are required.\n${USAGE}`);
  checkOutputFile(a.out, "--out", [".png"]);
  if (a.gif !== undefined) checkOutputFile(a.gif, "--gif", [".gif"]);
  requirePartner(a, "vector", "context", "it says how to read --context's numbers, e.g. --context 1,0,0.6,0,0 --vector");
  const choice: SamplerChoice = {
    sampler: parseSamplerName(a.sampler!),
    steps: numberOption(a.steps, "steps", { integer: true, min: 1 }),
    eta: numberOption(a.eta, "eta", { min: 0 }),
  };
  return {
    checkpoint: a.checkpoint,
    out: a.out,
    gif: a.gif,
    choice,
    n: numberOption(a.n, "n", { integer: true, min: 1 })!,
    rows: numberOption(a.rows, "rows", { integer: true, min: 1 })!,
    seed: numberOption(a.seed, "seed", { integer: true, min: 0 })!,
    context: a.context ?? "none",
    vector: a.vector!,
    ema: a.ema!,
  };
}

async function main(): Promise<void> {
  const a = parseSampleArgs(process.argv.slice(2));
  if (!a) return console.log(USAGE);
  const log = new ProgressLine(process.stderr, 2000);
  log.log(describeBackend(await initBackend()));
  const { model, schedule } = loadModel(a.checkpoint, { useEma: a.ema });
  let context: tf.Tensor2D | null = null;
  try {
    const label = samplerLabel(a.choice, schedule); // also checks the choice against the checkpoint's T
    context = contextFor(a.context, a.n, a.vector, model.config.nContext);
    const began = Date.now();
    const result = await sample(model, schedule, { count: a.n, seed: a.seed }, context, {
      ...a.choice,
      seed: a.seed,
      onStep: ({ step, steps }) => log.update(`${label} ${progressBar(step, steps)}`),
      ...(a.gif ? {} : { saveFrame: () => false }),
    });
    log.log(`${label}: ${a.n} sprites in ${((Date.now() - began) / 1000).toFixed(1)} s`);
    writeOutputFile(a.out, renderGridPng(result.samples, { rows: a.rows }));
    log.log(`wrote ${a.out}`);
    if (a.gif && result.frames) {
      writeOutputFile(a.gif, renderGif(result.frames, { rows: a.rows }));
      log.log(`wrote ${a.gif} (${result.frames.shape[0]} frames)`);
    }
    tf.dispose([result.samples, ...(result.frames ? [result.frames] : [])]);
  } finally {
    context?.dispose();
    model.dispose();
  }
}

if (typeof require !== "undefined" && require.main === module) {
  main().catch((error) => {
    console.error(`sample: ${(error as Error).message}`);
    process.exit(1);
  });
}
