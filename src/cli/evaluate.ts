/**
 * npm run evaluate -- --checkpoint DIR [--sampler ddim|ddpm|ddpm-no-noise] [--steps 25] [--eta 0] [--n 1000]
 *                     [--seed 0] [--classifier models/classifier] [--sprites DIR] [--record models/evaluation.json]
 * Samples a diffusion checkpoint and prints its SFD beside the real-vs-real floor, context accuracy
 * per class, diversity and nearest-training-neighbour distances; --record merges the result into
 * a JSON file (one entry per model, sampler and step count).
 */
import { parseArgs } from "node:util";
import { describeBackend, initBackend } from "../lib/backend";
import { projectPath } from "../lib/data/projectRoot";
import { SPRITE_CLASS_NAMES } from "../lib/data/sprites/classes";
import { parseSamplerName } from "../lib/diffusion/samplers";
import { DEFAULT_CLASSIFIER_DIR, loadClassifier } from "../lib/metrics/classifierFile";
import { type ModelEvaluation, evaluateDiffusionModel } from "../lib/metrics/modelEvaluation";
import { recordEvaluation } from "../lib/metrics/evaluationFile";
import { checkOutputFile, numberOption } from "./arguments";
import { ProgressLine, progressBar } from "./progressLine";

const USAGE = `Usage: npm run evaluate -- --checkpoint DIR [options]
  --checkpoint DIR   diffusion checkpoint folder (e.g. models/context)
  --sampler NAME     ddim (default), ddpm or ddpm-no-noise
  --steps N          DDIM only: steps, dividing the checkpoint's T (default 25; DDPM always takes T)
  --eta X            DDIM only: eta (default 0)
  --n N              samples (default 1000; the floor needs 2n held-out real sprites)
  --seed N           seed of the samples and of the real draws (default 0)
  --classifier DIR   the sprite classifier (default ${DEFAULT_CLASSIFIER_DIR})
  --sprites DIR      real sprite set to compare with (default: the project's, data/sprites)
  --record FILE      merge the result into this JSON file (e.g. models/evaluation.json)`;

const percent = (v: number | null) => (v === null ? "  n/a" : `${(100 * v).toFixed(1)} %`);

function report(r: ModelEvaluation): string {
  const lines = [
    `${r.model} (epoch ${r.epoch ?? "?"}), ${r.label}, n = ${r.n}, seed ${r.seed}: sampled in ${r.samplingSeconds.toFixed(1)} s on ${r.backend}`,
    `  SFD ${r.sfd.toFixed(3)}   (floor, real vs real at the same n: ${r.sfdFloor.toFixed(3)})`,
  ];
  if (r.contextAccuracy) {
    const per = SPRITE_CLASS_NAMES.map((name) => `${name} ${percent(r.contextAccuracy!.perClass[name])} (${r.contextAccuracy!.counts[name]})`);
    lines.push(`  context accuracy ${percent(r.contextAccuracy.overall)}: ${per.join(", ")}`);
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
      sampler: { type: "string", default: "ddim" },
      steps: { type: "string" },
      eta: { type: "string" },
      n: { type: "string", default: "1000" },
      seed: { type: "string", default: "0" },
      classifier: { type: "string", default: DEFAULT_CLASSIFIER_DIR },
      sprites: { type: "string" },
      record: { type: "string" },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) return null;
  if (!values.checkpoint) throw new Error(`--checkpoint is required.\n${USAGE}`);
  // --record is read and written relative to the project root, as recordEvaluation does.
  if (values.record !== undefined) checkOutputFile(projectPath(values.record), "--record", [".json"]);
  return {
    checkpoint: values.checkpoint,
    sampler: parseSamplerName(values.sampler!),
    steps: numberOption(values.steps, "steps", { integer: true, min: 1 }),
    eta: numberOption(values.eta, "eta", { min: 0 }),
    n: numberOption(values.n, "n", { integer: true, min: 2 })!,
    seed: numberOption(values.seed, "seed", { integer: true, min: 0 })!,
    classifier: values.classifier!,
    sprites: values.sprites,
    record: values.record,
  };
}

async function main(): Promise<void> {
  const values = parseEvaluateArgs(process.argv.slice(2));
  if (!values) return console.log(USAGE);
  const log = new ProgressLine();
  log.log(describeBackend(await initBackend()));
  const { classifier, manifest } = loadClassifier(values.classifier);
  log.log(`classifier: ${values.classifier}, held-out accuracy ${percent(manifest.heldOutScore.accuracy)}`);
  try {
    const { checkpoint, sampler, steps, eta, n, seed } = values;
    const result = await evaluateDiffusionModel({
      checkpoint,
      sampler,
      steps,
      eta,
      n,
      seed,
      classifier,
      spriteSet: values.sprites,
      onStep: (p) => log.update(`sampling ${sampler} ${progressBar(p.step, p.steps)} t ${p.t}`),
    });
    log.log(report(result));
    if (values.record) {
      recordEvaluation(values.record, result, { dir: values.classifier, heldOutAccuracy: manifest.heldOutScore.accuracy, createdAt: manifest.createdAt });
      log.log(`recorded in ${values.record}`);
    }
  } finally {
    classifier.dispose();
  }
}

if (typeof require !== "undefined" && require.main === module) {
  main().catch((error) => {
    console.error(`evaluate: ${(error as Error).message}`);
    process.exit(1);
  });
}
