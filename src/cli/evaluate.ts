/**
 * npm run evaluate -- --checkpoint DIR [--sampler ddim|ddpm|ddpm-no-noise] [--steps 25] [--eta 0] [--clip-denoised on|off] [--n 1000]
 *                     [--seed 0] [--classifier models/classifier] [--sprites DIR] [--record models/evaluation.json]
 *                     [--guidance W] [--classifier-guidance S [--guidance-classifier models/noisy-classifier]] [--engine auto|onnx|tfjs]
 * Samples a diffusion checkpoint (optionally guided) and prints its SFD beside the real-vs-real
 * floor, context accuracy per class, diversity and nearest-training-neighbour distances; --record
 * merges the result into a JSON file (one entry per model, sampler, step count, eta and guidance).
 */
import { parseArgs } from "node:util";
import { describeBackend, initBackend } from "../lib/backend";
import { projectPath } from "../lib/data/projectRoot";
import { SPRITE_CLASS_NAMES } from "../lib/data/sprites/classes";
import { DEFAULT_NOISY_CLASSIFIER_DIR, loadNoisyClassifier } from "../lib/guidance/noisyClassifierFile";
import { DEFAULT_CLASSIFIER_DIR, loadClassifier } from "../lib/metrics/classifierFile";
import { type ModelEvaluation, evaluateDiffusionModel } from "../lib/metrics/modelEvaluation";
import { recordEvaluation } from "../lib/metrics/evaluationFile";
import { parseWeightChoice } from "../lib/train/trainingCheckpoint";
import { ENGINE_OPTIONS, ENGINE_USAGE, SAMPLER_OPTIONS, SAMPLER_USAGE, checkOutputFile, engineOption, numberOption, samplerChoiceOption, requirePartner } from "./arguments";
import { ProgressLine, progressBar } from "./progressLine";

const USAGE = `Usage: npm run evaluate -- --checkpoint DIR [options]
  --checkpoint DIR   diffusion checkpoint folder (e.g. models/context)
${SAMPLER_USAGE}
  --n N              samples (default 1000; the floor needs 2n held-out real sprites)
  --seed N           seed of the samples and of the real draws (default 0)
  --classifier DIR   the sprite classifier (default ${DEFAULT_CLASSIFIER_DIR})
  --sprites DIR      real sprite set to compare with (default: the project's, data/sprites)
  --record FILE      merge the result into this JSON file (e.g. models/evaluation.json)
  --weights W        auto (default: the EMA weights when the checkpoint keeps them), ema or raw
  --guidance W       classifier-free guidance weight w >= 0 (context models only; default 0 = none)
  --classifier-guidance S
                     classifier guidance scale s >= 0: steers each sample to its real partner's class
                     with a noisy-sprite classifier (any model; accuracy is then reported per class)
  --guidance-classifier DIR
                     the noisy classifier for --classifier-guidance (default ${DEFAULT_NOISY_CLASSIFIER_DIR};
                     --classifier is the measuring classifier)
${ENGINE_USAGE}
                     (a row sampled on ONNX Runtime records engine "onnx", beside TensorFlow.js's)`;

const percent = (v: number | null) => (v === null ? "  n/a" : `${(100 * v).toFixed(1)} %`);

function report(r: ModelEvaluation): string {
  const lines = [
    `${r.model} (epoch ${r.epoch ?? "?"}, ${r.weights === "ema" ? "EMA" : "raw"} weights), ${r.label}, n = ${r.n}, seed ${r.seed}: sampled in ${r.samplingSeconds.toFixed(1)} s on ${r.backend}${r.engine === "onnx" ? " (the network on ONNX Runtime)" : ""}`,
    `  SFD ${r.sfd.toFixed(3)}   (floor, real vs real at the same n: ${r.sfdFloor.toFixed(3)})`,
  ];
  if (r.contextAccuracy) {
    const per = SPRITE_CLASS_NAMES.map((name) => `${name} ${percent(r.contextAccuracy!.perClass[name])} (${r.contextAccuracy!.counts[name]})`);
    const what = r.classifierGuidance ? "accuracy to the asked-for classes" : "context accuracy";
    lines.push(`  ${what} ${percent(r.contextAccuracy.overall)}: ${per.join(", ")}`);
  }
  lines.push(`  classes drawn: ${SPRITE_CLASS_NAMES.map((name) => `${name} ${percent(r.classShares[name])}`).join(", ")}`);
  const g = r.diversity.generated;
  const t = r.diversity.realTraining;
  lines.push(
    `  diversity: mean pairwise distance ${g.meanPairwiseDistance.toFixed(3)} (real training sprites ${t.meanPairwiseDistance.toFixed(3)}), ` +
      `near-duplicates (< ${g.threshold}) ${percent(g.nearDuplicateShare)} (real ${percent(t.nearDuplicateShare)})`,
  );
  const ng = r.nearestTraining.generated;
  const nu = r.nearestTraining.realUnseen;
  lines.push(
    `  nearest training sprite: median ${ng.median.toFixed(3)}, mean ${ng.mean.toFixed(3)}, closer than ${ng.threshold} ${percent(ng.shareBelowThreshold)}` +
      (nu ? ` (real sprites not trained on: median ${nu.median.toFixed(3)}, mean ${nu.mean.toFixed(3)}, ${percent(nu.shareBelowThreshold)})` : ""),
    `  training set: ${r.nearestTraining.trainingSet}`,
  );
  return lines.join("\n");
}

/** The command's options, checked (the record file's path, the sampler's name, numbers); null for --help. */
export function parseEvaluateArgs(args: string[]) {
  const { values } = parseArgs({
    args,
    options: {
      checkpoint: { type: "string" },
      ...SAMPLER_OPTIONS,
      n: { type: "string", default: "1000" },
      seed: { type: "string", default: "0" },
      classifier: { type: "string", default: DEFAULT_CLASSIFIER_DIR },
      sprites: { type: "string" },
      record: { type: "string" },
      guidance: { type: "string" },
      "classifier-guidance": { type: "string" },
      "guidance-classifier": { type: "string" },
      weights: { type: "string", default: "auto" },
      ...ENGINE_OPTIONS,
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) return null;
  if (!values.checkpoint) throw new Error(`--checkpoint is required.\n${USAGE}`);
  requirePartner(values, "guidance-classifier", "classifier-guidance", "it names the classifier --classifier-guidance S uses");
  const engine = engineOption(values);
  if (engine === "onnx" && values["classifier-guidance"] !== undefined) {
    throw new Error("--classifier-guidance runs on TensorFlow.js (the noisy classifier's gradient at every step), so it cannot come with --engine onnx: drop one of them (--guidance W works on ONNX Runtime).");
  }
  // --record is read and written relative to the project root, as recordEvaluation does.
  if (values.record !== undefined) checkOutputFile(projectPath(values.record), "--record", [".json"]);
  return {
    checkpoint: values.checkpoint,
    ...samplerChoiceOption(values),
    n: numberOption(values.n, "n", { integer: true, min: 2 })!,
    seed: numberOption(values.seed, "seed", { integer: true, min: 0 })!,
    classifier: values.classifier!,
    sprites: values.sprites,
    record: values.record,
    weights: parseWeightChoice(values.weights!),
    guidance: numberOption(values.guidance, "guidance", { min: 0 }) ?? 0,
    classifierGuidance: numberOption(values["classifier-guidance"], "classifier-guidance", { min: 0 }) ?? 0,
    guidanceClassifier: values["guidance-classifier"] ?? DEFAULT_NOISY_CLASSIFIER_DIR,
    engine,
  };
}

async function main(): Promise<void> {
  const values = parseEvaluateArgs(process.argv.slice(2));
  if (!values) return console.log(USAGE);
  const log = new ProgressLine();
  log.log(describeBackend(await initBackend()));
  const { classifier, manifest } = loadClassifier(values.classifier);
  log.log(`classifier: ${values.classifier}, held-out accuracy ${percent(manifest.heldOutScore.accuracy)}`);
  let guide: ReturnType<typeof loadNoisyClassifier> | null = null;
  try {
    guide = values.classifierGuidance > 0 ? loadNoisyClassifier(values.guidanceClassifier) : null;
    if (guide) log.log(`guidance classifier: ${values.guidanceClassifier}`);
    const { checkpoint, sampler, steps, eta, clipDenoised, n, seed, guidance } = values;
    const result = await evaluateDiffusionModel({
      checkpoint,
      sampler,
      steps,
      eta,
      clipDenoised,
      n,
      seed,
      classifier,
      guidance,
      ...(guide ? { classifierGuidance: { classifier: guide.classifier, dir: values.guidanceClassifier, scale: values.classifierGuidance, schedule: guide.manifest.schedule } } : {}),
      spriteSet: values.sprites,
      weights: values.weights,
      engine: values.engine,
      onEngine: (reason) => log.log(`engine: ${reason}`),
      onStep: (p) => log.update(`sampling ${sampler} ${progressBar(p.step, p.steps)} t ${p.t}`),
    });
    log.log(report(result));
    if (values.record) {
      recordEvaluation(values.record, result, { dir: values.classifier, heldOutAccuracy: manifest.heldOutScore.accuracy, createdAt: manifest.createdAt });
      log.log(`recorded in ${values.record}`);
    }
  } finally {
    classifier.dispose();
    guide?.classifier.dispose();
  }
}

if (typeof require !== "undefined" && require.main === module) {
  main().catch((error) => {
    console.error(`evaluate: ${(error as Error).message}`);
    process.exit(1);
  });
}
