/**
 * npm run evaluate-ardm -- --checkpoint models/ardm --k 16 [--n 500] [--batch 50] [--seed 0]
 *                          [--classifier models/classifier] [--weights auto] [--engine auto|onnx|tfjs] [--record models/evaluation.json]
 * An ARDM's samples at k variables per network call (k = 1, 4, 16, 64, ...): their sprite Frechet
 * distance beside the real-vs-real floor at the same n, the classes they fall in, and the seconds
 * per 32 sprites; --record merges the row into the evaluation file's ardm part.
 */
import { parseArgs } from "node:util";
import { loadArdm } from "../lib/ardm/checkpoint";
import { describeBackend, initBackend } from "../lib/backend";
import { projectPath } from "../lib/data/projectRoot";
import { type ArdmEvaluation, evaluateArdm } from "../lib/metrics/ardmEvaluation";
import { DEFAULT_CLASSIFIER_DIR, loadClassifier } from "../lib/metrics/classifierFile";
import { recordArdmEvaluation } from "../lib/metrics/evaluationFile";
import { parseWeightChoice } from "../lib/train/trainingCheckpoint";
import { ENGINE_OPTIONS, ENGINE_USAGE, checkOutputFile, engineOption, numberOption } from "./arguments";
import { ProgressLine, progressBar } from "./progressLine";

const USAGE = `Usage: npm run evaluate-ardm -- --checkpoint DIR --k K [options]
  --checkpoint DIR   an ARDM checkpoint folder (npm run train-ardm)
  --k K              variables decoded per network call, 1..D (k = 1: one at a time, D = 768 calls)
  --n N              sprites (default 500; the floor needs 2n held-out real sprites)
  --batch B          sprites per sampling batch (default 50; batch b is seeded by the seed and b)
  --seed N           seed of the samples and the real draws (default 0)
  --classifier DIR   the sprite classifier (default ${DEFAULT_CLASSIFIER_DIR})
  --weights W        auto (default: the EMA weights when kept), ema or raw
${ENGINE_USAGE}
                     (a row sampled on ONNX Runtime records engine "onnx", beside TensorFlow.js's)
  --record FILE      merge the row into FILE's ardm part (e.g. models/evaluation.json)`;

const percent = (v: number) => `${(100 * v).toFixed(1)} %`;

function report(r: ArdmEvaluation): string {
  return [
    `${r.checkpoint} (epoch ${r.epoch}, step ${r.globalStep}, ${r.weights === "ema" ? "EMA" : "raw"} weights), k = ${r.k} (${r.calls} calls), n = ${r.n}, seed ${r.seed}, batches of ${r.batch}: ${r.samplingSeconds.toFixed(1)} s on ${r.backend}${r.engine === "onnx" ? " (the network on ONNX Runtime)" : ""}, ${r.secondsPer32.toFixed(1)} s per 32 sprites`,
    `  SFD ${r.sfd.toFixed(3)}   (floor, real vs real at the same n: ${r.sfdFloor.toFixed(3)})`,
    `  classes drawn: ${Object.entries(r.classShares).map(([name, share]) => `${name} ${percent(share)}`).join(", ")}`,
  ].join("\n");
}

/** The command's options, checked; null for --help. */
export function parseEvaluateArdmArgs(args: string[]) {
  const { values } = parseArgs({
    args,
    options: {
      checkpoint: { type: "string" },
      k: { type: "string" },
      n: { type: "string", default: "500" },
      batch: { type: "string", default: "50" },
      seed: { type: "string", default: "0" },
      classifier: { type: "string", default: DEFAULT_CLASSIFIER_DIR },
      weights: { type: "string", default: "auto" },
      record: { type: "string" },
      ...ENGINE_OPTIONS,
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) return null;
  if (!values.checkpoint) throw new Error(`--checkpoint is required.\n${USAGE}`);
  if (values.k === undefined) throw new Error(`--k is required: the variables decoded per network call, e.g. --k 16.\n${USAGE}`);
  if (values.record !== undefined) checkOutputFile(projectPath(values.record), "--record", [".json"]);
  return {
    checkpoint: values.checkpoint,
    k: numberOption(values.k, "k", { integer: true, min: 1 })!,
    n: numberOption(values.n, "n", { integer: true, min: 2 })!,
    batch: numberOption(values.batch, "batch", { integer: true, min: 1 })!,
    seed: numberOption(values.seed, "seed", { integer: true, min: 0 })!,
    classifier: values.classifier!,
    weights: parseWeightChoice(values.weights!),
    record: values.record,
    engine: engineOption(values),
  };
}

async function main(): Promise<void> {
  const a = parseEvaluateArdmArgs(process.argv.slice(2));
  if (!a) return console.log(USAGE);
  const log = new ProgressLine();
  log.log(describeBackend(await initBackend()));
  const { classifier, manifest } = loadClassifier(a.classifier);
  try {
    const loaded = loadArdm(a.checkpoint, { weights: a.weights });
    try {
      log.log(`${a.checkpoint}: ${loaded.weightsLabel}; classifier ${a.classifier}, held-out accuracy ${percent(manifest.heldOutScore.accuracy)}`);
      const result = await evaluateArdm({
        ...a,
        loaded,
        classifier,
        onEngine: (reason) => log.log(`engine: ${reason}`),
        onStep: (call, calls, batch, batches) => log.update(`batch ${batch}/${batches} ${progressBar(call, calls)}`),
      });
      log.log(report(result));
      if (a.record) {
        recordArdmEvaluation(a.record, result);
        log.log(`recorded in ${a.record}`);
      }
    } finally {
      loaded.network.dispose();
    }
  } finally {
    classifier.dispose();
  }
}

if (typeof require !== "undefined" && require.main === module) {
  main().catch((error) => {
    console.error(`evaluate-ardm: ${(error as Error).message}`);
    process.exit(1);
  });
}
