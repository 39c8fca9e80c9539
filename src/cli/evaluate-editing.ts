/**
 * npm run evaluate-editing -- --checkpoint DIR [--mask left-half,centre-square,border] [--method mean-fill,replace,repaint]
 *                             [--sampler ddim --steps 100 --eta 1] [--jump-length J --resamplings R] [--n 300] [--seed 0]
 *                             [--record models/editing-evaluation.json]
 * Measures inpainting on held-out sprites for every mask and method (see
 * src/lib/editing/inpaintingEvaluation.ts): unknown-pixel RMSE, class agreement, seam score and
 * SFD, each beside its value on real sprites, and the cost in model evaluations and seconds.
 */
import { parseArgs } from "node:util";
import { describeBackend, initBackend } from "../lib/backend";
import { projectPath } from "../lib/data/projectRoot";
import { parseSamplerName } from "../lib/diffusion/samplers";
import { recordEditingEvaluation } from "../lib/editing/editingEvaluationFile";
import { type InpaintingEvaluation, type InpaintingMethod, evaluateInpainting } from "../lib/editing/inpaintingEvaluation";
import { parseInpaintMethod } from "../lib/editing/inpaint";
import { maskPreset } from "../lib/editing/masks";
import { DEFAULT_CLASSIFIER_DIR, loadClassifier } from "../lib/metrics/classifierFile";
import { loadModel, parseWeightChoice } from "../lib/train/trainingCheckpoint";
import { checkOutputFile, numberOption } from "./arguments";
import { ProgressLine, progressBar } from "./progressLine";

const USAGE = `Usage: npm run evaluate-editing -- --checkpoint DIR [options]
  --mask LIST        mask presets (default left-half,centre-square,border)
  --method LIST      mean-fill (the trivial baseline), replace, repaint (default all three)
  --sampler NAME     the chain the methods walk: ddpm or ddim (default ddim)
  --steps N, --eta X DDIM only (default 100 and 1: the DDPM posterior on a grid of 100 steps)
  --jump-length J    repaint: chain steps per jump back (default 10)
  --resamplings R    repaint: passes over each stretch (default 5)
  --n N              held-out sprites per mask (default 300; needs 3n held-out sprites)
  --seed S           seed of the draw and of the noise (default 0)
  --classifier DIR   the measuring sprite classifier (default ${DEFAULT_CLASSIFIER_DIR})
  --weights W        auto (default: the EMA weights when the checkpoint keeps them), ema or raw
  --record FILE      merge the results into this JSON file (e.g. models/editing-evaluation.json)`;

const METHODS = (text: string): InpaintingMethod[] => text.split(",").map((m) => (m === "mean-fill" ? m : parseInpaintMethod(m)));

/** The command's options, checked; null for --help. */
export function parseEvaluateEditingArgs(args: string[]) {
  const { values: a } = parseArgs({
    args,
    options: {
      checkpoint: { type: "string" }, mask: { type: "string", default: "left-half,centre-square,border" },
      method: { type: "string", default: "mean-fill,replace,repaint" }, sampler: { type: "string", default: "ddim" },
      steps: { type: "string" }, eta: { type: "string" }, "jump-length": { type: "string" }, resamplings: { type: "string" },
      n: { type: "string", default: "300" }, seed: { type: "string", default: "0" }, classifier: { type: "string", default: DEFAULT_CLASSIFIER_DIR },
      weights: { type: "string", default: "auto" }, record: { type: "string" }, help: { type: "boolean", default: false },
    },
  });
  if (a.help) return null;
  if (!a.checkpoint) throw new Error(`--checkpoint is required.\n${USAGE}`);
  if (a.record !== undefined) checkOutputFile(projectPath(a.record), "--record", [".json"]);
  const sampler = parseSamplerName(a.sampler!);
  const ddim = sampler === "ddim";
  return {
    checkpoint: a.checkpoint,
    masks: a.mask!.split(",").map((name) => maskPreset(name)),
    methods: METHODS(a.method!),
    choice: { sampler, steps: numberOption(a.steps ?? (ddim ? "100" : undefined), "steps", { integer: true, min: 1 }), eta: numberOption(a.eta ?? (ddim ? "1" : undefined), "eta", { min: 0 }) },
    repaint: {
      jumpLength: numberOption(a["jump-length"] ?? "10", "jump-length", { integer: true, min: 1 })!,
      resamplings: numberOption(a.resamplings ?? "5", "resamplings", { integer: true, min: 1 })!,
    },
    n: numberOption(a.n, "n", { integer: true, min: 2 })!,
    seed: numberOption(a.seed, "seed", { integer: true, min: 0 })!,
    classifier: a.classifier!,
    weights: parseWeightChoice(a.weights!),
    record: a.record,
  };
}

const fixed = (v: number, digits = 3) => v.toFixed(digits);

function report(r: InpaintingEvaluation): string {
  const how = r.method === "mean-fill" ? "mean-fill" : `${r.method} (${r.sampler}${r.repaint ? `, jump ${r.repaint.jumpLength}, ${r.repaint.resamplings} resamplings` : ""})`;
  return `${r.mask}, ${how}, n = ${r.n}, seed ${r.seed}: ${r.modelEvaluations} model evaluations, ${fixed(r.seconds, 1)} s\n` +
    `  unknown-pixel RMSE ${fixed(r.unknownRmse)}, class agreement ${(100 * r.classAgreement).toFixed(1)} % (real ${(100 * r.classAgreementReal).toFixed(1)} %), ` +
    `seam ${fixed(r.seamScore)} (real ${fixed(r.seamScoreReal)}), SFD ${fixed(r.sfd, 2)} (floor ${fixed(r.sfdFloor, 2)})`;
}

async function main(): Promise<void> {
  const a = parseEvaluateEditingArgs(process.argv.slice(2));
  if (!a) return console.log(USAGE);
  const log = new ProgressLine();
  log.log(describeBackend(await initBackend()));
  const { classifier, manifest } = loadClassifier(a.classifier);
  const { model, schedule, weights, weightsLabel } = loadModel(a.checkpoint, { weights: a.weights });
  log.log(`${a.checkpoint}: ${weightsLabel}`);
  try {
    for (const mask of a.masks) {
      for (const method of a.methods) {
        const result = await evaluateInpainting({
          ...a.choice, model, schedule, modelName: a.checkpoint, weights, classifier, mask, method, n: a.n, seed: a.seed,
          repaint: method === "repaint" ? a.repaint : undefined,
          onMove: (p) => log.update(`${mask.name} ${method} ${progressBar(p.move, p.moves)} t ${p.t}`),
        });
        log.log(report(result));
        if (a.record) recordEditingEvaluation(a.record, result, { dir: a.classifier, heldOutAccuracy: manifest.heldOutScore.accuracy, createdAt: manifest.createdAt });
      }
    }
    if (a.record) log.log(`recorded in ${a.record}`);
  } finally {
    classifier.dispose();
    model.dispose();
  }
}

if (typeof require !== "undefined" && require.main === module) {
  main().catch((error) => {
    console.error(`evaluate-editing: ${(error as Error).message}`);
    process.exit(1);
  });
}
