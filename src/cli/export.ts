/**
 * npm run export -- --checkpoint DIR|FILE.pth --out model.safetensors [--weights auto|ema|raw]
 * Writes a model as safetensors with PyTorch's state_dict keys and NCHW layouts, so that the
 * reference ContextUnet (../shared/bench/contextunet_torch.py) takes it with load_state_dict, and
 * bench/continue_training_torch.py trains it on, on a GPU when there is one. The architecture and
 * schedule go into the file's metadata; loadModel("model.safetensors") reads it back.
 */
import { parseArgs } from "node:util";
import { initBackend } from "../lib/backend";
import { exportSafetensors } from "../lib/interop/modelFile";
import { loadModel, parseWeightChoice } from "../lib/train/trainingCheckpoint";
import { checkOutputFile } from "./arguments";

const USAGE = `Usage: npm run export -- --checkpoint DIR --out model.safetensors [options]
  --checkpoint DIR   a checkpoint folder (e.g. models/context), or a .pth / .safetensors file
  --out FILE         the .safetensors file to write
  --weights W        auto (default: the EMA weights when the checkpoint keeps them), ema or raw`;

/** The command's options, checked; null for --help. */
export function parseExportArgs(args: string[]) {
  const { values: a } = parseArgs({
    args,
    options: { checkpoint: { type: "string" }, out: { type: "string" }, weights: { type: "string", default: "auto" }, help: { type: "boolean", default: false } },
  });
  if (a.help) return null;
  if (!a.checkpoint || !a.out) throw new Error(`--checkpoint and --out are required.\n${USAGE}`);
  checkOutputFile(a.out, "--out", [".safetensors"]);
  return { checkpoint: a.checkpoint, out: a.out, weights: parseWeightChoice(a.weights!) };
}

async function main(): Promise<void> {
  const a = parseExportArgs(process.argv.slice(2));
  if (!a) return console.log(USAGE);
  // Exporting only copies weights: the plain JavaScript backend does it without a warm-up.
  await initBackend("cpu");
  const { model, manifest, schedule, weights, weightsLabel } = loadModel(a.checkpoint, { weights: a.weights });
  try {
    console.error(`${a.checkpoint}: ${weightsLabel}`);
    await exportSafetensors(a.out, model, schedule.config, { weights, source: a.checkpoint, batchesTracked: manifest.training?.globalStep ?? 0 });
    console.log(`wrote ${a.out}: ContextUnet(in_channels=${model.config.inChannels}, n_feat=${model.config.nFeat}, n_cfeat=${model.config.nContext}, height=${model.config.height}), ${model.parameterCount} parameters, ${weights} weights`);
  } finally {
    model.dispose();
  }
}

if (typeof require !== "undefined" && require.main === module) {
  main().catch((error) => {
    console.error(`export: ${(error as Error).message}`);
    process.exit(1);
  });
}
