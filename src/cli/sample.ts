/**
 * npm run sample -- --checkpoint models/context --sampler ddim --steps 25 --context 0,1,2,3,4 --out grid.png [--gif anim.gif]
 * Draws sprites from a checkpoint and writes a PNG grid (and optionally the denoising as a GIF).
 */
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import * as tf from "@tensorflow/tfjs-core";
import { describeBackend, initBackend } from "../lib/backend";
import { courseSchedule } from "../lib/diffusion/schedule";
import { type SampleResult, sampleDdim, sampleDdpm, sampleDdpmWithoutNoise } from "../lib/diffusion/sampling";
import { renderGif } from "../lib/render/gif";
import { renderGridPng } from "../lib/render/grid";
import { loadModel } from "../lib/train/trainingCheckpoint";
import { ProgressLine, progressBar } from "./progressLine";

const USAGE = `Usage: npm run sample -- --checkpoint DIR --out grid.png [options]
  --sampler ddpm|ddim|ddpm-no-noise   (default ddim)
  --steps N        DDIM steps, must divide T = 500 (default 25)
  --eta X          DDIM eta (default 0)
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
    return tf.tile(tf.tensor2d(v, [1, classes]), [n, 1]) as tf.Tensor2D;
  }
  const list = spec === "each" ? Array.from({ length: classes }, (_, c) => c) : spec.split(",").map(Number);
  const bad = list.find((c) => !Number.isInteger(c) || c < 0 || c >= classes);
  if (bad !== undefined) throw new Error(`--context: class ${bad} is not in 0..${classes - 1}.`);
  const perSample = Array.from({ length: n }, (_, i) => (spec === "each" ? list[Math.floor((i * classes) / n)] : list[i % list.length]));
  return tf.tidy(() => tf.cast(tf.oneHot(tf.tensor1d(perSample, "int32"), classes), "float32") as tf.Tensor2D);
}

async function main(): Promise<void> {
  const { values: a } = parseArgs({
    options: {
      checkpoint: { type: "string" },
      out: { type: "string" },
      sampler: { type: "string", default: "ddim" },
      steps: { type: "string", default: "25" },
      eta: { type: "string", default: "0" },
      n: { type: "string", default: "32" },
      context: { type: "string", default: "none" },
      vector: { type: "boolean", default: false },
      rows: { type: "string", default: "4" },
      seed: { type: "string", default: "0" },
      ema: { type: "boolean", default: false },
      gif: { type: "string" },
      help: { type: "boolean", default: false },
    },
  });
  if (a.help || !a.checkpoint || !a.out) {
    console.log(USAGE);
    process.exit(a.help ? 0 : 2);
  }
  const log = new ProgressLine(process.stderr, 2000);
  log.log(describeBackend(await initBackend()));
  const { model } = loadModel(a.checkpoint, { useEma: a.ema });
  const n = Number(a.n);
  const context = contextFor(a.context, n, a.vector, model.config.nContext);
  const options = {
    seed: Number(a.seed),
    onStep: ({ step, steps }: { step: number; steps: number }) => log.update(`${a.sampler} ${progressBar(step, steps)}`),
    ...(a.gif ? {} : { saveFrame: () => false }),
  };
  const start = { count: n, seed: Number(a.seed) };
  const began = Date.now();
  let result: SampleResult;
  if (a.sampler === "ddim") result = await sampleDdim(model, courseSchedule, start, context, { ...options, steps: Number(a.steps), eta: Number(a.eta) });
  else if (a.sampler === "ddpm") result = await sampleDdpm(model, courseSchedule, start, context, options);
  else if (a.sampler === "ddpm-no-noise") result = await sampleDdpmWithoutNoise(model, courseSchedule, start, context, options);
  else throw new Error(`--sampler must be ddpm, ddim or ddpm-no-noise, got "${a.sampler}".`);
  log.log(`${a.sampler}: ${n} sprites in ${((Date.now() - began) / 1000).toFixed(1)} s`);
  writeFileSync(a.out, renderGridPng(result.samples, { rows: Number(a.rows) }));
  log.log(`wrote ${a.out}`);
  if (a.gif && result.frames) {
    writeFileSync(a.gif, renderGif(result.frames, { rows: Number(a.rows) }));
    log.log(`wrote ${a.gif} (${result.frames.shape[0]} frames)`);
  }
  tf.dispose([result.samples, ...(result.frames ? [result.frames] : []), ...(context ? [context] : [])]);
  model.dispose();
}

main().catch((error) => {
  console.error(`sample: ${(error as Error).message}`);
  process.exit(1);
});
