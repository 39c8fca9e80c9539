/**
 * npm run ardm-nll -- --checkpoint DIR [--n 1000] [--orders 4] [--seed 0] [--batch 50]
 *                     [--method orders|estimate] [--draws 8] [--weights auto|ema|raw] [--out FILE.json]
 * An ARDM's negative log-likelihood bound in bits per dimension on held-out sprites it never
 * trained on, the same sprites the improved-DDPM likelihoods use (src/lib/ardm/heldOutSprites.ts),
 * with its standard error over the sprites:
 *   orders    (default) Eq. 4's bound E_sigma[-log p_sigma(x)], each sprite's exact autoregressive
 *             NLL along --orders random orders (D = 768 network calls per order), averaged;
 *   estimate  the same bound by Monte Carlo: Eq. 4's one-draw loss at --draws random (t, sigma) per
 *             sprite (one call each), unbiased but noisier, for a quick look.
 * --out writes the result, with the per-step losses L_t of the orders (the budgeted schedule's input).
 */
import { relative } from "node:path";
import { parseArgs } from "node:util";
import * as tf from "@tensorflow/tfjs-core";
import { loadArdm } from "../lib/ardm/checkpoint";
import { ardmHeldOutSprites } from "../lib/ardm/heldOutSprites";
import { meanStepLosses, orderNll } from "../lib/ardm/likelihood";
import { orderAgnosticLoss } from "../lib/ardm/loss";
import { type ArdmNetwork, ardmNetworkLogits } from "../lib/ardm/network";
import { drawMask, drawOrders } from "../lib/ardm/orders";
import { describeBackend, initBackend } from "../lib/backend";
import { PROJECT_ROOT, projectPath } from "../lib/data/projectRoot";
import { deriveSeed } from "../lib/data/sprites/prng";
import { parseWeightChoice } from "../lib/train/trainingCheckpoint";
import { checkOutputFile, choiceOption, numberOption, writeOutputFile } from "./arguments";
import { ProgressLine, formatDuration, progressBar } from "./progressLine";

const USAGE = `Usage: npm run ardm-nll -- --checkpoint DIR [options]
  --checkpoint DIR   an ARDM checkpoint folder (npm run train-ardm)
  --n N              held-out sprites the model never trained on (default 1000)
  --method M         orders (default: exact along random orders) or estimate (Monte Carlo over (t, sigma))
  --orders R         with orders: random orders per sprite (default 4; each costs D = 768 network calls)
  --draws R          with estimate: random (t, sigma) per sprite (default 8; one call each)
  --seed N           seed of the sprites' draw and of the orders (default 0)
  --batch B          sprites per network call (default 50; the numbers do not depend on it)
  --weights W        auto (default: the EMA weights when kept), ema or raw
  --out FILE.json    also write the result (and, with orders, the mean per-step losses L_t)`;

/** The command's options, checked; null for --help. */
export function parseArdmNllArgs(args: string[]) {
  const { values: a } = parseArgs({
    args,
    options: {
      checkpoint: { type: "string" }, n: { type: "string", default: "1000" }, method: { type: "string", default: "orders" },
      orders: { type: "string" }, draws: { type: "string" }, seed: { type: "string", default: "0" }, batch: { type: "string", default: "50" },
      weights: { type: "string", default: "auto" }, out: { type: "string" }, help: { type: "boolean", default: false },
    },
  });
  if (a.help) return null;
  if (!a.checkpoint) throw new Error(`--checkpoint is required.\n${USAGE}`);
  const method = choiceOption(a.method, "method", ["orders", "estimate"] as const)!;
  if (method === "orders" && a.draws !== undefined) throw new Error("--draws applies to --method estimate; with --method orders give --orders.");
  if (method === "estimate" && a.orders !== undefined) throw new Error("--orders applies to --method orders; with --method estimate give --draws.");
  if (a.out !== undefined) checkOutputFile(projectPath(a.out), "--out", [".json"]);
  return {
    checkpoint: a.checkpoint,
    n: numberOption(a.n, "n", { integer: true, min: 1 })!,
    method,
    repeats: method === "orders" ? numberOption(a.orders ?? "4", "orders", { integer: true, min: 1 })! : numberOption(a.draws ?? "8", "draws", { integer: true, min: 1 })!,
    seed: numberOption(a.seed, "seed", { integer: true, min: 0 })!,
    batch: numberOption(a.batch, "batch", { integer: true, min: 1 })!,
    weights: parseWeightChoice(a.weights!),
    out: a.out,
  };
}

type Args = NonNullable<ReturnType<typeof parseArdmNllArgs>>;

/** Network calls of the evaluation: D per order and batch, or one per draw and batch. */
function networkCalls(a: Args, D: number): number {
  return a.repeats * Math.ceil(a.n / a.batch) * (a.method === "orders" ? D : 1);
}

/** Per-sprite bound (nats) and, for orders, the mean per-step losses; `progress` is told after each network call. */
async function evaluate(network: ArdmNetwork, x: tf.Tensor2D, a: Args, progress: (text: string, calls: number) => void) {
  const n = x.shape[0];
  const D = network.dimensions;
  const perSprite = new Float64Array(n);
  const stepLosses = new Float64Array(D);
  const batches = Math.ceil(n / a.batch);
  let calls = 0;
  for (let r = 0; r < a.repeats; r++) {
    // Drawn for all n sprites at once, so sprite i's order (or (t, sigma)) does not depend on --batch.
    const draws = drawOrders(n, D, deriveSeed(a.seed, 0x0d1e, r));
    for (let b = 0; b < batches; b++) {
      const from = b * a.batch;
      const size = Math.min(a.batch, n - from);
      const where = `${a.method === "orders" ? "order" : "draw"} ${r + 1}/${a.repeats}, batch ${b + 1}/${batches}`;
      const xb = tf.slice(x, [from, 0], [size, D]);
      try {
        if (a.method === "orders") {
          const result = await orderNll(network, xb, draws.slice(from, from + size).map((d) => d.sigma), (t) => progress(`${where} ${progressBar(t, D)}`, ++calls));
          result.nll.forEach((v, i) => (perSprite[from + i] += v / a.repeats));
          meanStepLosses(result).forEach((v, t) => (stepLosses[t] += (v * size) / n / a.repeats));
        } else {
          const mask = drawMask(draws.slice(from, from + size), D);
          const losses = tf.tidy(() => orderAgnosticLoss(ardmNetworkLogits("ardm-nll", network, xb, mask), xb, mask).perDatum);
          (await losses.data()).forEach((v, i) => (perSprite[from + i] += v / a.repeats));
          tf.dispose([mask, losses]);
          progress(where, ++calls);
        }
      } finally {
        xb.dispose();
      }
    }
  }
  return { perSprite, stepLosses: a.method === "orders" ? stepLosses : null };
}

async function main(): Promise<void> {
  const a = parseArdmNllArgs(process.argv.slice(2));
  if (!a) return console.log(USAGE);
  const log = new ProgressLine();
  log.log(describeBackend(await initBackend()));
  const { network, manifest, weightsLabel } = loadArdm(projectPath(a.checkpoint), { weights: a.weights });
  let sprites: ReturnType<typeof ardmHeldOutSprites> | null = null;
  try {
    sprites = ardmHeldOutSprites(a.n, a.seed, manifest);
    log.log(`${a.checkpoint} (epoch ${manifest.training.epoch}, step ${manifest.training.globalStep}, ${weightsLabel}), ${network.parameterCount} parameters`);
    log.log(`sprites: ${a.n} ${sprites.note}`);
    const total = networkCalls(a, network.dimensions);
    log.log(`${total} network calls of up to ${a.batch} sprites (${a.method === "orders" ? `${a.repeats} orders x D = ${network.dimensions} steps` : `${a.repeats} draws`} per sprite)`);
    const started = Date.now();
    const { perSprite, stepLosses } = await evaluate(network, sprites.x, a, (text, calls) => {
      const elapsed = (Date.now() - started) / 1000;
      log.update(`${text} ${formatDuration(elapsed)}, ETA ${formatDuration((elapsed / calls) * (total - calls))}`);
    });
    const seconds = (Date.now() - started) / 1000;
    const perBit = network.dimensions * Math.LN2;
    const bits = Array.from(perSprite, (v) => v / perBit);
    const bitsPerDim = bits.reduce((s, v) => s + v, 0) / bits.length;
    const standardError = bits.length > 1 ? Math.sqrt(bits.reduce((s, v) => s + (v - bitsPerDim) ** 2, 0) / (bits.length - 1) / bits.length) : null;
    const how = a.method === "orders" ? `${a.repeats} random orders per sprite, exact along each` : `${a.repeats} random (t, sigma) per sprite (Monte Carlo)`;
    log.log(`${a.n} sprites, ${how}, in ${formatDuration(seconds)}:`);
    log.log(`  ${bitsPerDim.toFixed(4)} bits/dim ${standardError === null ? "(one sprite: no standard error)" : `± ${standardError.toFixed(4)} (standard error over ${a.n} sprites)`}`);
    if (a.out) {
      const result = {
        format: "sprite-diffusion-ardm-likelihood",
        model: relative(PROJECT_ROOT, projectPath(a.checkpoint)), epoch: manifest.training.epoch, step: manifest.training.globalStep, weights: weightsLabel,
        method: a.method, repeats: a.repeats, n: a.n, seed: a.seed, bitsPerDim, standardError, seconds, backend: tf.getBackend(), sprites: sprites.note,
        ...(stepLosses ? { meanStepLossesNats: Array.from(stepLosses, (v) => Number(v.toPrecision(5))) } : {}),
      };
      writeOutputFile(projectPath(a.out), new TextEncoder().encode(JSON.stringify(result, null, 1) + "\n"));
      log.log(`wrote ${a.out}`);
    }
  } finally {
    sprites?.x.dispose();
    network.dispose();
  }
}

if (typeof require !== "undefined" && require.main === module) {
  main().catch((error) => {
    console.error(`ardm-nll: ${(error as Error).message}`);
    process.exit(1);
  });
}
