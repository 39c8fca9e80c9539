/**
 * npm run evaluate-text -- --checkpoint models/text [--per-prompt 50] [--sampler ddim --steps 25] [--guidance W]
 *                          [--seed 0] [--record models/evaluation.json]
 * Does a text model draw what its prompts say? For each kind-and-colour pair it never trained on
 * (the checkpoint's data.heldOut, npm run train -- --text --hold-out N) and for each pair's trained
 * control (the same kind in a colour it did see), it draws --per-prompt sprites from the pair's
 * caption ("a red potion") and the kind and colour classifiers read them; real sprites of the same
 * pairs that neither classifier trained on are read the same way, as the reference.
 * --record merges the row into the evaluation file's promptMatch part.
 */
import { parseArgs } from "node:util";
import { describeBackend, initBackend } from "../lib/backend";
import { projectPath } from "../lib/data/projectRoot";
import { loadSpriteCaptions } from "../lib/data/spriteCaptions";
import { attributeClassifierDir, loadAttributeClassifier } from "../lib/metrics/attributeClassifier";
import { recordPromptMatchEvaluation } from "../lib/metrics/evaluationFile";
import { type MatchShares, type PromptMatchEvaluation, type PromptSetMatch, evaluatePromptMatch } from "../lib/metrics/promptMatchEvaluation";
import { realSpriteSet } from "../lib/metrics/realSprites";
import { TextContextUnet } from "../lib/text/textContextUnet";
import { type LoadedModel, loadNoiseModel, parseWeightChoice } from "../lib/train/trainingCheckpoint";
import { SAMPLER_OPTIONS, SAMPLER_USAGE, checkOutputFile, numberOption, samplerChoiceOption } from "./arguments";
import { ProgressLine, progressBar } from "./progressLine";

const USAGE = `Usage: npm run evaluate-text -- --checkpoint DIR [options]
  --checkpoint DIR   a text checkpoint trained with held-out pairs (npm run train -- --text), e.g. models/text
  --per-prompt N     sprites drawn per prompt, and real sprites read per pair at most (default 50)
${SAMPLER_USAGE}
  --guidance W       classifier-free guidance weight w >= 0 toward the prompt (default 0 = none)
  --seed N           seed of the samples (a prompt's own, derived from it) and of the real draws (default 0)
  --weights W        auto (default: EMA when kept), ema or raw
  --kind-classifier DIR
                     the kind classifier (default ${attributeClassifierDir("kind")})
  --colour-classifier DIR
                     the main-colour classifier (default ${attributeClassifierDir("colour")})
  --record FILE      merge the row into FILE's promptMatch part (e.g. models/evaluation.json)`;

const percent = (v: number) => `${(100 * v).toFixed(1)} %`;
const shares = (s: MatchShares | null) => (s === null ? "no real sprites" : `kind ${percent(s.kind)}, colour ${percent(s.colour)}, both ${percent(s.both)} (${s.count})`);

function setReport(name: string, set: PromptSetMatch): string[] {
  return [
    `  ${name}: ${set.rows.length} prompts`,
    `    generated: ${shares(set.generated)}`,
    `    real, unseen by the classifiers: ${shares(set.real)}`,
    `    real, any sprite of the pair:    ${shares(set.realAll ?? null)}`,
    ...set.rows.map((row) => `    "${row.prompt}": ${shares(row.generated)}; real ${shares(row.real)}; any real ${shares(row.realAll ?? null)}`),
  ];
}

function report(r: PromptMatchEvaluation): string {
  return [
    `${r.checkpoint} (epoch ${r.epoch ?? "?"}, ${r.weights === "ema" ? "EMA" : "raw"} weights), ${r.label}, ${r.perPrompt} per prompt, seed ${r.seed}: ${r.seconds.toFixed(1)} s on ${r.backend}`,
    `  classifiers: kind ${r.classifiers.kind.dir} (${percent(r.classifiers.kind.heldOutAccuracy)} on held-out bases), colour ${r.classifiers.colour.dir} (${percent(r.classifiers.colour.heldOutAccuracy)})`,
    `  real reference: ${r.realReference}`,
    ...setReport("held-out pairs (never trained on)", r.heldOut),
    ...setReport("trained controls (same kinds, a trained colour)", r.trained),
  ].join("\n");
}

/** The command's options, checked; null for --help. */
export function parseEvaluateTextArgs(args: string[]) {
  const { values } = parseArgs({
    args,
    options: {
      checkpoint: { type: "string" },
      "per-prompt": { type: "string", default: "50" },
      ...SAMPLER_OPTIONS,
      guidance: { type: "string", default: "0" },
      seed: { type: "string", default: "0" },
      weights: { type: "string", default: "auto" },
      "kind-classifier": { type: "string", default: attributeClassifierDir("kind") },
      "colour-classifier": { type: "string", default: attributeClassifierDir("colour") },
      record: { type: "string" },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) return null;
  if (!values.checkpoint) throw new Error(`--checkpoint is required.\n${USAGE}`);
  if (values.record !== undefined) checkOutputFile(projectPath(values.record), "--record", [".json"]);
  return {
    checkpoint: values.checkpoint,
    perPrompt: numberOption(values["per-prompt"], "per-prompt", { integer: true, min: 1 })!,
    ...samplerChoiceOption(values),
    guidance: numberOption(values.guidance, "guidance", { min: 0 })!,
    seed: numberOption(values.seed, "seed", { integer: true, min: 0 })!,
    weights: parseWeightChoice(values.weights!),
    kindClassifier: values["kind-classifier"]!,
    colourClassifier: values["colour-classifier"]!,
    record: values.record,
  };
}

async function main(): Promise<void> {
  const a = parseEvaluateTextArgs(process.argv.slice(2));
  if (!a) return console.log(USAGE);
  const log = new ProgressLine();
  log.log(describeBackend(await initBackend()));
  const loaded = loadNoiseModel(a.checkpoint, { weights: a.weights });
  if (!(loaded.model instanceof TextContextUnet)) {
    loaded.model.dispose();
    throw new Error(`${a.checkpoint} holds a ${loaded.manifest.architecture.name}, not a text-conditioned model; give a checkpoint of \`npm run train -- --text\` (e.g. models/text).`);
  }
  const kind = loadAttributeClassifier("kind", a.kindClassifier);
  let colour: ReturnType<typeof loadAttributeClassifier> | null = null;
  try {
    colour = loadAttributeClassifier("colour", a.colourClassifier);
    const real = realSpriteSet();
    const result = await evaluatePromptMatch({
      ...a,
      loaded: loaded as LoadedModel<TextContextUnet>,
      classifiers: { kind, colour, dirs: { kind: a.kindClassifier, colour: a.colourClassifier } },
      real,
      captions: loadSpriteCaptions(real.dir),
      onPrompt: (set, prompt, index, count) => log.log(`${set} ${index + 1}/${count}: "${prompt.prompt}"`),
      onStep: (p) => log.update(`sampling ${progressBar(p.step, p.steps)}`),
    });
    log.log(report(result));
    if (a.record) {
      recordPromptMatchEvaluation(a.record, result);
      log.log(`recorded in ${a.record}`);
    }
  } finally {
    loaded.model.dispose();
    kind.classifier.dispose();
    colour?.classifier.dispose();
  }
}

if (typeof require !== "undefined" && require.main === module) {
  main().catch((error) => {
    console.error(`evaluate-text: ${(error as Error).message}`);
    process.exit(1);
  });
}
