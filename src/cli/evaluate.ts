/**
 * npm run evaluate -- --checkpoint DIR [--sampler ddim|ddpm] [--steps 25] [--n 1000] [--seed 0]
 *                     [--classifier models/classifier] [--sprites DIR] [--record models/evaluation.json]
 * Samples a diffusion checkpoint and prints its SFD beside the real-vs-real floor, context accuracy
 * per class, diversity and nearest-training-neighbour distances; --record merges the result into
 * a JSON file (one entry per model, sampler and step count).
 */
import { parseArgs } from "node:util";
import { describeBackend, initBackend } from "../lib/backend";
import { SPRITE_CLASS_NAMES } from "../lib/data/sprites/classes";
import { DEFAULT_CLASSIFIER_DIR, loadClassifier } from "../lib/metrics/classifierFile";
import { type ModelEvaluation, type SamplerName, evaluateDiffusionModel } from "../lib/metrics/modelEvaluation";
import { recordEvaluation } from "../lib/metrics/evaluationFile";
import { ProgressLine, progressBar } from "./progressLine";

const USAGE = `Usage: npm run evaluate -- --checkpoint DIR [options]
  --checkpoint DIR   diffusion checkpoint folder (e.g. models/context)
  --sampler NAME     ddim (default) or ddpm
  --steps N          DDIM steps, dividing T = 500 (default 25; DDPM always takes 500)
  --n N              samples (default 1000; the floor needs 2n held-out real sprites)
  --seed N           seed of the samples and of the real draws (default 0)
  --classifier DIR   the sprite classifier (default ${DEFAULT_CLASSIFIER_DIR})
  --sprites DIR      real sprite set to compare with (default: the project's, data/sprites)
  --record FILE      merge the result into this JSON file (e.g. models/evaluation.json)`;

const percent = (v: number | null) => (v === null ? "  n/a" : `${(100 * v).toFixed(1)} %`);

function report(r: ModelEvaluation): string {
  const lines = [
    `${r.model} (epoch ${r.epoch ?? "?"}), ${r.sampler.toUpperCase()}-${r.steps}, n = ${r.n}, seed ${r.seed}: sampled in ${r.samplingSeconds.toFixed(1)} s on ${r.backend}`,
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

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      checkpoint: { type: "string" },
      sampler: { type: "string", default: "ddim" },
      steps: { type: "string", default: "25" },
      n: { type: "string", default: "1000" },
      seed: { type: "string", default: "0" },
      classifier: { type: "string", default: DEFAULT_CLASSIFIER_DIR },
      sprites: { type: "string" },
      record: { type: "string" },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help || !values.checkpoint) {
    console.log(USAGE);
    process.exit(values.help ? 0 : 2);
  }
  const sampler = values.sampler as SamplerName;
  if (sampler !== "ddim" && sampler !== "ddpm") throw new Error(`--sampler must be ddim or ddpm, got "${values.sampler}".`);
  const [steps, n, seed] = [values.steps, values.n, values.seed].map(Number);
  if (!Number.isInteger(n) || n < 2) throw new Error(`--n must be an integer >= 2, got ${values.n}.`);
  if (!Number.isInteger(seed) || seed < 0) throw new Error(`--seed must be a non-negative integer, got ${values.seed}.`);

  const log = new ProgressLine();
  log.log(describeBackend(await initBackend()));
  const { classifier, manifest } = loadClassifier(values.classifier);
  log.log(`classifier: ${values.classifier}, held-out accuracy ${percent(manifest.heldOutScore.accuracy)}`);
  try {
    const result = await evaluateDiffusionModel({
      checkpoint: values.checkpoint,
      sampler,
      steps,
      n,
      seed,
      classifier,
      spriteSet: values.sprites,
      onStep: (p) => log.update(`sampling ${sampler.toUpperCase()} ${progressBar(p.step, p.steps)} t ${p.t}`),
    });
    log.log(report(result));
    if (values.record) {
      recordEvaluation(values.record, result, { dir: values.classifier!, heldOutAccuracy: manifest.heldOutScore.accuracy, createdAt: manifest.createdAt });
      log.log(`recorded in ${values.record}`);
    }
  } finally {
    classifier.dispose();
  }
}

main().catch((error) => {
  console.error(`evaluate: ${(error as Error).message}`);
  process.exit(1);
});
