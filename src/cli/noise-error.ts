/**
 * npm run noise-error -- --checkpoint DIR [--weights auto|ema|raw|both] [--n 1000] [--seed 0] [--every 20] [--out FILE.json]
 * The model's noise-prediction error at every `every`-th step t on n held-out sprites (with their
 * own classes as context for a context model): where in t a model is weak, and whether the EMA
 * weights predict better than the trained ones. DDIM-25 evaluates the model only at t = 500,
 * 480, ..., 20; DDPM-500 at every t.
 */
import { parseArgs } from "node:util";
import * as tf from "@tensorflow/tfjs-core";
import { describeBackend, initBackend } from "../lib/backend";
import { oneHotContexts } from "../lib/data/dataset";
import { projectPath } from "../lib/data/projectRoot";
import { type StepError, noisePredictionErrorByStep } from "../lib/metrics/noisePredictionError";
import { heldOutRealSprites } from "../lib/metrics/realSprites";
import { type WeightChoice, loadModel, parseWeightChoice } from "../lib/train/trainingCheckpoint";
import { checkOutputFile, numberOption, writeOutputFile } from "./arguments";
import { ProgressLine } from "./progressLine";

const USAGE = `Usage: npm run noise-error -- --checkpoint DIR [options]
  --weights W      auto (default: EMA when kept), ema, raw, or both (raw and EMA side by side)
  --n N            held-out sprites (default 1000)
  --seed S         seed of the draw and of the noise (default 0)
  --every K        measure at t = K, 2K, ..., T (default 20: DDIM-25's steps)
  --out FILE.json  also write the numbers as JSON`;

/** The command's options, checked; null for --help. */
export function parseNoiseErrorArgs(args: string[]) {
  const { values: a } = parseArgs({
    args,
    options: {
      checkpoint: { type: "string" }, weights: { type: "string", default: "auto" }, n: { type: "string", default: "1000" },
      seed: { type: "string", default: "0" }, every: { type: "string", default: "20" }, out: { type: "string" }, help: { type: "boolean", default: false },
    },
  });
  if (a.help) return null;
  if (!a.checkpoint) throw new Error(`--checkpoint is required.\n${USAGE}`);
  if (a.out !== undefined) checkOutputFile(a.out, "--out", [".json"]);
  const weights: WeightChoice[] = a.weights === "both" ? ["raw", "ema"] : [parseWeightChoice(a.weights!)];
  return {
    checkpoint: a.checkpoint, weights, out: a.out,
    n: numberOption(a.n, "n", { integer: true, min: 1 })!,
    seed: numberOption(a.seed, "seed", { integer: true, min: 0 })!,
    every: numberOption(a.every, "every", { integer: true, min: 1 })!,
  };
}

async function main(): Promise<void> {
  const a = parseNoiseErrorArgs(process.argv.slice(2));
  if (!a) return console.log(USAGE);
  const log = new ProgressLine();
  log.log(describeBackend(await initBackend()));
  const real = heldOutRealSprites(a.n, a.seed, 0);
  const columns: Array<{ label: string; errors: StepError[] }> = [];
  try {
    for (const weights of a.weights) {
      const loaded = loadModel(projectPath(a.checkpoint), { weights });
      const usesContext = loaded.manifest.training?.config.useContext ?? false;
      const context = usesContext ? oneHotContexts(real.classes) : null;
      try {
        const steps = Array.from({ length: Math.floor(loaded.schedule.T / a.every) }, (_, i) => (i + 1) * a.every);
        log.update(`${loaded.weightsLabel}: measuring ${steps.length} steps on ${a.n} sprites`);
        columns.push({ label: loaded.weightsLabel, errors: await noisePredictionErrorByStep(loaded.model, loaded.schedule, real.images, context, steps, { seed: a.seed }) });
      } finally {
        context?.dispose();
        loaded.model.dispose();
      }
    }
  } finally {
    tf.dispose([real.images, real.labels]);
  }
  log.log(`${a.checkpoint}, n = ${a.n} held-out sprites, seed ${a.seed}: mean squared error of the predicted noise (1 = predicting none)`);
  log.log(["t", ...columns.map((c) => c.label)].join("\t"));
  columns[0].errors.forEach(({ t }, i) => log.log([t, ...columns.map((c) => c.errors[i].mse.toFixed(5))].join("\t")));
  if (a.out) writeOutputFile(a.out, new TextEncoder().encode(JSON.stringify({ checkpoint: a.checkpoint, n: a.n, seed: a.seed, columns }, null, 2) + "\n"));
}

if (typeof require !== "undefined" && require.main === module) {
  main().catch((error) => {
    console.error(`noise-error: ${(error as Error).message}`);
    process.exit(1);
  });
}
