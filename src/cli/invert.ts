/**
 * `npm run invert -- --checkpoint models/text --images examples.npy --token "<robot>" --out DIR
 *   [--captions examples.json] [--init-word W] [--steps N] [--batch B] [--lr X] [--seed S] [--weights auto|ema|raw]`
 * Textual inversion (Gal et al. 2022; src/lib/text/textualInversion.ts): with the text model
 * frozen, learns one new word's embedding from a few example sprites by the diffusion loss, and
 * writes the extended model to DIR as a checkpoint (`npm run sample -- --checkpoint DIR --prompt
 * "a red <robot> with a shield"` then draws it) with inversion-log.json beside it. Every option
 * and path is checked, the checkpoint loaded and the examples read before the first step; Ctrl-C
 * stops at the next progress report (every 25 steps) and saves the row learnt so far.
 */
import { existsSync } from "node:fs";
import { parseArgs } from "node:util";
import { describeBackend, initBackend } from "../lib/backend";
import { projectPath } from "../lib/data/projectRoot";
import { INVERSION_LOG_FILE, loadTextModel, readExampleTemplates, readExamples, saveInversion } from "../lib/text/inversionFiles";
import { DEFAULT_INVERSION_TEMPLATES } from "../lib/text/inversionTemplates";
import { INVERSION_DEFAULTS, invertToken } from "../lib/text/textualInversion";
import { parseWeightChoice } from "../lib/train/trainingCheckpoint";
import { checkOutputFolder, numberOption } from "./arguments";
import { ProgressLine, formatDuration, progressBar } from "./progressLine";
import { trainingStop } from "./trainingStop";

const USAGE = `Usage: npm run invert -- --checkpoint DIR --images FILE.npy --token "<new>" --out DIR [options]
  --checkpoint DIR   a text-conditioned checkpoint (npm run train -- --text, e.g. models/text)
  --images FILE.npy  3-5 example sprites of the new kind: uint8 (K, 16, 16, 3) as the sprite set's, or
                     float in [-1, 1] (npm run held-out-sprites writes some the captions never name)
  --token WORD       the new word, one token: a placeholder such as "<robot>" (quote it in the shell)
  --out DIR          where to write the extended model (a checkpoint) and ${INVERSION_LOG_FILE}
  --captions F.json  the examples' attributes as npm run held-out-sprites writes them beside the .npy:
                     train on each sprite's own captions with its kind replaced by the word ("a red <robot>
                     with a shield"); default the templates ${DEFAULT_INVERSION_TEMPLATES.map((t) => `"${t}"`).join(", ")}
  --init-word W      start from this vocabulary word's embedding (a kind the examples resemble);
                     default the mean of all word embeddings
  --steps N          Adam steps on the new embedding (default ${INVERSION_DEFAULTS.steps})
  --batch B          draws of (example, caption, t, noise) per step (default ${INVERSION_DEFAULTS.batchSize})
  --lr X             Adam's learning rate (default ${INVERSION_DEFAULTS.learningRate})
  --seed S           seed of every draw (default ${INVERSION_DEFAULTS.seed})
  --weights W        auto (default: EMA when kept), ema or raw: the weights to start from`;

/** The command's options, checked (paths too); null for --help. */
export function parseInvertArgs(args: string[]) {
  const { values: a } = parseArgs({
    args,
    options: {
      checkpoint: { type: "string" }, images: { type: "string" }, token: { type: "string" }, out: { type: "string" },
      captions: { type: "string" }, "init-word": { type: "string" }, steps: { type: "string" }, batch: { type: "string" },
      lr: { type: "string" }, seed: { type: "string" }, weights: { type: "string", default: "auto" }, help: { type: "boolean", default: false },
    },
  });
  if (a.help) return null;
  const missing = ["checkpoint", "images", "token", "out"].filter((name) => a[name as keyof typeof a] === undefined);
  if (missing.length > 0) throw new Error(`${missing.map((m) => `--${m}`).join(", ")} ${missing.length > 1 ? "are" : "is"} required.\n${USAGE}`);
  for (const [option, path] of [["images", a.images!], ["captions", a.captions]] as const) {
    if (path !== undefined && !existsSync(path)) throw new Error(`--${option} ${path}: no such file.`);
  }
  if (!a.images!.toLowerCase().endsWith(".npy")) throw new Error(`--images ${a.images}: expected a .npy file (uint8 (K, 16, 16, 3) sprites, or floats in [-1, 1]).`);
  checkOutputFolder(a.out!, "--out");
  return {
    checkpoint: a.checkpoint!, images: a.images!, token: a.token!, out: a.out!, captions: a.captions, initWord: a["init-word"],
    weights: parseWeightChoice(a.weights!),
    steps: numberOption(a.steps, "steps", { integer: true, min: 1 }),
    batchSize: numberOption(a.batch, "batch", { integer: true, min: 1 }),
    learningRate: numberOption(a.lr, "lr", { min: Number.MIN_VALUE }),
    seed: numberOption(a.seed, "seed", { integer: true, min: 0 }),
  };
}

async function main(): Promise<void> {
  const a = parseInvertArgs(process.argv.slice(2));
  if (!a) return console.log(USAGE);
  const log = new ProgressLine();
  log.log(describeBackend(await initBackend()));
  const loaded = loadTextModel(projectPath(a.checkpoint), { weights: a.weights });
  const examples = (() => {
    try {
      return readExamples(a.images, loaded.model.imageShape);
    } catch (error) {
      loaded.model.dispose();
      throw error;
    }
  })();
  const stop = trainingStop(log, undefined);
  try {
    const templates = a.captions === undefined ? undefined : readExampleTemplates(a.captions, a.token, examples.shape[0]);
    const options = { token: a.token, initWord: a.initWord, templates, steps: a.steps, batchSize: a.batchSize, learningRate: a.learningRate, seed: a.seed };
    const steps = a.steps ?? INVERSION_DEFAULTS.steps;
    log.log(`${a.checkpoint} (${loaded.weightsLabel}): learning "${a.token}" from ${examples.shape[0]} examples in ${a.images}, ${steps} steps`);
    const started = Date.now();
    const result = await invertToken(loaded.model, loaded.schedule, examples, {
      ...options,
      onProgress: ({ step, loss }) => {
        const eta = ((Date.now() - started) / step) * (steps - step);
        log.update(`${progressBar(step, steps)} loss ${loss.toFixed(4)} ETA ${formatDuration(eta / 1000)}`);
        return stop() ? "stop" : undefined;
      },
    });
    try {
      const written = await saveInversion(a.out, result, loaded, { checkpoint: a.checkpoint, examples: a.images, options: { ...options, templates: templates ? a.captions : DEFAULT_INVERSION_TEMPLATES } });
      log.log(
        `"${written.token}" is id ${written.tokenId} after ${written.steps} steps in ${written.seconds.toFixed(1)} s: L_simple on the examples ` +
          `${written.evaluationLoss.before.toFixed(4)} -> ${written.evaluationLoss.after.toFixed(4)} (fixed draws); wrote ${a.out} and ${INVERSION_LOG_FILE}`,
      );
      log.log(`draw it: npm run sample -- --checkpoint ${a.out} --prompt "a ${a.token}" --out ${a.out}/samples.png`);
    } finally {
      result.model.dispose();
    }
  } finally {
    examples.dispose();
    loaded.model.dispose();
  }
}

if (typeof require !== "undefined" && require.main === module) {
  main().catch((error) => {
    console.error(`invert: ${(error as Error).message}`);
    process.exit(1);
  });
}
