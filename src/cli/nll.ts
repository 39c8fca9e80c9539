/**
 * npm run nll -- --checkpoint DIR [--n 1000] [--seed 0] [--batch 100] [--context none|labels]
 *                [--clip on|off] [--weights auto|ema|raw] [--record models/likelihood.json]
 * The checkpoint's negative log-likelihood on held-out sprites it never trained on, as the full
 * variational bound in bits per dimension (L_T + every t's KL + the decoder; Ho et al. 2020,
 * eq. 5), with its standard error over the sprites; --record appends a row to a JSON file.
 */
import { relative } from "node:path";
import { parseArgs } from "node:util";
import * as tf from "@tensorflow/tfjs-core";
import { describeBackend, initBackend } from "../lib/backend";
import { oneHotContexts } from "../lib/data/dataset";
import { PROJECT_ROOT, projectPath } from "../lib/data/projectRoot";
import { hasLearnedVariance } from "../lib/diffusion/sampling";
import { type VariationalBound, unseenHeldOutSprites, variationalBound } from "../lib/metrics/likelihood";
import { type LikelihoodRecord, recordLikelihood, summariseTerms } from "../lib/metrics/likelihoodFile";
import { realSpriteSet } from "../lib/metrics/realSprites";
import { loadModel, parseWeightChoice } from "../lib/train/trainingCheckpoint";
import { checkOutputFile, choiceOption, numberOption } from "./arguments";
import { ProgressLine, formatDuration, progressBar } from "./progressLine";

const USAGE = `Usage: npm run nll -- --checkpoint DIR [options]
  --checkpoint DIR   diffusion checkpoint folder (e.g. models/context)
  --n N              held-out sprites the model never trained on (default 1000)
  --seed N           seed of the sprites' draw and of every x_t (default 0)
  --batch B          sprites per model evaluation (default 100; the numbers do not depend on it)
  --context C        none (default): the null context, -log p(x) as the papers report it;
                     labels: each sprite's own class, -log p(x | y) (context models only)
  --clip on|off      clip the model's x_0 estimate to [-1, 1] (default on, as improved DDPM's evaluation)
  --weights W        auto (default: the EMA weights when the checkpoint keeps them), ema or raw
  --record FILE      append the result to this JSON file (e.g. models/likelihood.json)`;

/** The command's options, checked (the record file's path, the choices, numbers); null for --help. */
export function parseNllArgs(args: string[]) {
  const { values: a } = parseArgs({
    args,
    options: {
      checkpoint: { type: "string" }, n: { type: "string", default: "1000" }, seed: { type: "string", default: "0" },
      batch: { type: "string", default: "100" }, context: { type: "string", default: "none" }, clip: { type: "string", default: "on" },
      weights: { type: "string", default: "auto" }, record: { type: "string" }, help: { type: "boolean", default: false },
    },
  });
  if (a.help) return null;
  if (!a.checkpoint) throw new Error(`--checkpoint is required.\n${USAGE}`);
  // --record is read and written relative to the project root, as recordLikelihood does.
  if (a.record !== undefined) checkOutputFile(projectPath(a.record), "--record", [".json"]);
  return {
    checkpoint: a.checkpoint,
    n: numberOption(a.n, "n", { integer: true, min: 1 })!,
    seed: numberOption(a.seed, "seed", { integer: true, min: 0 })!,
    batch: numberOption(a.batch, "batch", { integer: true, min: 1 })!,
    context: choiceOption(a.context, "context", ["none", "labels"] as const)!,
    clip: choiceOption(a.clip, "clip", ["on", "off"] as const)! === "on",
    weights: parseWeightChoice(a.weights!),
    record: a.record,
  };
}

/** Bits/dim with its standard error, then where the bound comes from. */
function report(bound: VariationalBound, terms: LikelihoodRecord["terms"], n: number): string {
  const error = bound.standardError === null ? "(one sprite: no standard error)" : `± ${bound.standardError.toFixed(4)} (standard error over ${n} sprites)`;
  const bands = terms.bands.map((b) => `t ${b.from}-${b.to} ${b.bitsPerDim.toFixed(4)}`);
  return [`  ${bound.bitsPerDim.toFixed(4)} bits/dim ${error}`, `  terms: L_0 (decoder, t = 1) ${terms.decoder.toFixed(4)}, KL ${bands.join(", ")}, L_T (prior) ${terms.prior.toExponential(2)}`].join("\n");
}

async function main(): Promise<void> {
  const a = parseNllArgs(process.argv.slice(2));
  if (!a) return console.log(USAGE);
  const log = new ProgressLine();
  log.log(describeBackend(await initBackend()));
  const { model, manifest, schedule, weights, weightsLabel } = loadModel(projectPath(a.checkpoint), { weights: a.weights });
  let sprites: ReturnType<typeof unseenHeldOutSprites> | null = null;
  let context: tf.Tensor2D | null = null;
  try {
    const usesContext = manifest.training?.config.useContext ?? false;
    if (a.context === "labels" && !usesContext) throw new Error(`--context labels needs a model trained with context, but ${a.checkpoint} was trained without; drop it (the null context is the model's only one).`);
    const real = realSpriteSet();
    sprites = unseenHeldOutSprites(a.n, a.seed, manifest, real);
    context = a.context === "labels" ? oneHotContexts(sprites.classes) : null;
    const variance = hasLearnedVariance(model) ? "learned" : "fixed";
    log.log(`${a.checkpoint} (epoch ${manifest.training?.epoch ?? "?"}, ${weightsLabel}), ${schedule.config.kind} schedule T = ${schedule.T}, ${variance} variance, context ${a.context}, clip ${a.clip ? "on" : "off"}`);
    log.log(`sprites: ${a.n} ${sprites.note}`);
    const started = Date.now();
    const bound = await variationalBound(model, schedule, sprites.images, {
      seed: a.seed, batchSize: a.batch, context, clipDenoised: a.clip,
      onProgress: (p) => log.update(`bound ${progressBar(p.step, p.steps)} t ${p.t}, ${formatDuration((Date.now() - started) / 1000)}`),
    });
    const seconds = (Date.now() - started) / 1000;
    const terms = summariseTerms(bound);
    log.log(`${a.n} sprites x ${schedule.T} steps in ${formatDuration(seconds)} (${((a.n * schedule.T) / seconds).toFixed(0)} sprite-steps/s on ${tf.getBackend()}):`);
    log.log(report(bound, terms, a.n));
    if (a.record) {
      const row: LikelihoodRecord = {
        model: relative(PROJECT_ROOT, projectPath(a.checkpoint)), epoch: manifest.training?.epoch ?? null, ...(weights === "ema" ? { weights } : {}),
        variance, schedule: schedule.config.kind, context: a.context, clipDenoised: a.clip, n: a.n, seed: a.seed,
        bitsPerDim: bound.bitsPerDim, standardError: bound.standardError, terms, seconds, backend: tf.getBackend(), sprites: sprites.note,
        realSet: { dir: relative(PROJECT_ROOT, real.dir), generator: real.generator, fingerprint: real.fingerprint },
      };
      recordLikelihood(a.record, row);
      log.log(`recorded in ${a.record}`);
    }
  } finally {
    tf.dispose([...(sprites ? [sprites.images, sprites.labels] : []), ...(context ? [context] : [])]);
    model.dispose();
  }
}

if (typeof require !== "undefined" && require.main === module) {
  main().catch((error) => {
    console.error(`nll: ${(error as Error).message}`);
    process.exit(1);
  });
}
