/**
 * npm run evaluate-inversion -- --checkpoint DIR [--prompt "a <robot>"]... [--n 100] [--references 200]
 *                               [--guidance W] [--seed 0] [--record models/evaluation.json]
 * Does a word learnt by `npm run invert` draw its examples' kind? Draws --n sprites per prompt and
 * per prompt with the word left out, and reads them with the nearest-neighbour test of
 * src/lib/metrics/inversionMatch.ts (the kind classifier's features; references: sprites of the
 * new kind on another seed than the examples', and real sprites of the set), beside the test's
 * ceiling (more sprites of the new kind). --record merges the row into FILE's inversion part.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { describeBackend, initBackend } from "../lib/backend";
import { readNpy } from "../lib/data/npy";
import { projectPath } from "../lib/data/projectRoot";
import { HELD_OUT_KINDS } from "../lib/data/sprites/heldOut";
import { attributeClassifierDir, loadAttributeClassifier } from "../lib/metrics/attributeClassifier";
import { recordInversionEvaluation } from "../lib/metrics/evaluationFile";
import { type InversionEvaluation, evaluateInversion } from "../lib/metrics/inversionMatch";
import { realSpriteSet } from "../lib/metrics/realSprites";
import { INVERSION_LOG_FILE, type InversionLog, loadTextModel } from "../lib/text/inversionFiles";
import { parseWeightChoice } from "../lib/train/trainingCheckpoint";
import { SAMPLER_OPTIONS, SAMPLER_USAGE, checkOutputFile, choiceOption, numberOption, samplerChoiceOption } from "./arguments";
import { ProgressLine, progressBar } from "./progressLine";

const USAGE = `Usage: npm run evaluate-inversion -- --checkpoint DIR [options]
  --checkpoint DIR   an inverted model (npm run invert --out DIR: its ${INVERSION_LOG_FILE} names the word)
  --prompt TEXT      a prompt using the word (repeat for more; default "a {token}" and "a {token} with a shield")
  --kind K           the kind the examples show: ${HELD_OUT_KINDS.join(", ")} (default robot)
  --n N              sprites per prompt, and new-kind sprites for the ceiling (default 100)
  --references R     references of each group: new-kind sprites and real ones (default 200)
${SAMPLER_USAGE}
  --guidance W       classifier-free guidance weight w >= 0 (default 0)
  --seed N           seed of the samples and the references (default 0)
  --weights W        auto (default), ema or raw
  --kind-classifier DIR
                     the classifier whose features the test reads (default ${attributeClassifierDir("kind")})
  --record FILE      merge the row into FILE's inversion part (e.g. models/evaluation.json)`;

const percent = (v: number) => `${(100 * v).toFixed(1)} %`;

function report(r: InversionEvaluation): string {
  return [
    `${r.checkpoint}: "${r.token}" (learnt on ${r.source.checkpoint} from ${r.source.exampleCount} ${r.kind} examples, ${r.source.steps} steps), ${r.label}, n = ${r.n} per prompt, seed ${r.seed}: ${r.seconds.toFixed(1)} s on ${r.backend}`,
    `  nearest-neighbour test in ${r.classifier.dir}'s features: ${r.references.newKind} ${r.kind} references (seed ${r.references.newKindSeed}) against ${r.references.real} real sprites`,
    ...r.prompts.map((p) => `  "${p.prompt}": ${percent(p.share)} read as ${r.kind}; without the word ("${p.withoutWord.prompt}"): ${percent(p.withoutWord.share)}`),
    `  ceiling, ${r.n} more ${r.kind} sprites (seed ${r.references.ceilingSeed}): ${percent(r.ceiling)}`,
  ].join("\n");
}

/** The command's options, checked; null for --help. */
export function parseEvaluateInversionArgs(args: string[]) {
  const { values } = parseArgs({
    args,
    options: {
      checkpoint: { type: "string" },
      prompt: { type: "string", multiple: true },
      kind: { type: "string", default: "robot" },
      n: { type: "string", default: "100" },
      references: { type: "string", default: "200" },
      ...SAMPLER_OPTIONS,
      guidance: { type: "string", default: "0" },
      seed: { type: "string", default: "0" },
      weights: { type: "string", default: "auto" },
      "kind-classifier": { type: "string", default: attributeClassifierDir("kind") },
      record: { type: "string" },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) return null;
  if (!values.checkpoint) throw new Error(`--checkpoint is required.\n${USAGE}`);
  if (values.record !== undefined) checkOutputFile(projectPath(values.record), "--record", [".json"]);
  return {
    checkpoint: values.checkpoint,
    prompts: values.prompt,
    kind: choiceOption(values.kind!, "kind", HELD_OUT_KINDS),
    n: numberOption(values.n, "n", { integer: true, min: 1 })!,
    references: numberOption(values.references, "references", { integer: true, min: 1 })!,
    ...samplerChoiceOption(values),
    guidance: numberOption(values.guidance, "guidance", { min: 0 })!,
    seed: numberOption(values.seed, "seed", { integer: true, min: 0 })!,
    weights: parseWeightChoice(values.weights!),
    kindClassifier: values["kind-classifier"]!,
    record: values.record,
  };
}

/** The inversion's log beside the checkpoint; a clear error when the folder holds no inversion. */
function readInversionLog(dir: string): InversionLog {
  const path = join(projectPath(dir), INVERSION_LOG_FILE);
  if (!existsSync(path)) throw new Error(`${dir} has no ${INVERSION_LOG_FILE}: give the --out folder of \`npm run invert\`, which learnt the word this command measures.`);
  return JSON.parse(readFileSync(path, "utf8")) as InversionLog;
}

async function main(): Promise<void> {
  const a = parseEvaluateInversionArgs(process.argv.slice(2));
  if (!a) return console.log(USAGE);
  const log = new ProgressLine();
  log.log(describeBackend(await initBackend()));
  const inversion = readInversionLog(a.checkpoint);
  const prompts = a.prompts ?? [`a ${inversion.token}`, `a ${inversion.token} with a shield`];
  const examplesPath = projectPath(inversion.source.examples);
  const exampleBytes = existsSync(examplesPath) ? (() => {
    const npy = readNpy(examplesPath);
    return npy.dtype === "uint8" ? (npy.data as Uint8Array) : undefined;
  })() : undefined;
  if (!exampleBytes) log.log(`note: the examples ${inversion.source.examples} are not readable as uint8 sprites here; references equal to an example cannot be left out`);
  const loaded = loadTextModel(projectPath(a.checkpoint), { weights: a.weights });
  const kind = (() => {
    try {
      return loadAttributeClassifier("kind", a.kindClassifier);
    } catch (error) {
      loaded.model.dispose();
      throw error;
    }
  })();
  try {
    const result = await evaluateInversion({
      ...a,
      prompts,
      loaded,
      log: inversion,
      classifier: kind.classifier,
      classifierDir: a.kindClassifier,
      classifierHeldOutAccuracy: kind.manifest.heldOutScore.accuracy,
      real: realSpriteSet(),
      ...(exampleBytes ? { exampleBytes } : {}),
      onPrompt: (prompt) => log.log(`drawing "${prompt}"`),
      onStep: (p) => log.update(`sampling ${progressBar(p.step, p.steps)}`),
    });
    log.log(report(result));
    if (a.record) {
      recordInversionEvaluation(a.record, result);
      log.log(`recorded in ${a.record}`);
    }
  } finally {
    loaded.model.dispose();
    kind.classifier.dispose();
  }
}

if (typeof require !== "undefined" && require.main === module) {
  main().catch((error) => {
    console.error(`evaluate-inversion: ${(error as Error).message}`);
    process.exit(1);
  });
}
