/**
 * A ContextUnet from a single PyTorch-world file: a .pth state_dict (torch.save) or a .safetensors
 * file, and a project model out to .safetensors. The architecture comes from the tensors' shapes;
 * the schedule from the safetensors metadata this project writes, else the course's (linear,
 * T = 500, beta 1e-4..0.02), which a .pth cannot record.
 */
import { basename, extname } from "node:path";
import { COURSE_SCHEDULE_CONFIG, type ScheduleConfig } from "../diffusion/schedule";
import { ContextUnet, type ContextUnetConfig } from "../model/contextUnet";
import { inferUnetConfig, renameToProjectKeys, stateDictFromModel, weightsFromStateDict } from "./contextUnetStateDict";
import { type StateDict, readPth } from "./pthFile";
import { readSafetensors, writeSafetensors } from "./safetensors";

/** The metadata key under which export records the architecture and schedule (JSON). */
export const SAFETENSORS_METADATA_KEY = "sprite-diffusion";

/** File extensions loadModel reads as a single PyTorch-world file rather than a checkpoint folder. */
export const MODEL_FILE_EXTENSIONS: readonly string[] = Object.freeze([".pth", ".pt", ".safetensors"]);

/** Is `path` a .pth, .pt or .safetensors file name (rather than a checkpoint folder)? */
export function isModelFile(path: string): boolean {
  return MODEL_FILE_EXTENSIONS.includes(extname(path).toLowerCase());
}

/** What loading a model file gives: the model (caller owns it), its schedule, and what was done. */
export interface ModelFileContents {
  model: ContextUnet;
  config: ContextUnetConfig;
  schedule: ScheduleConfig;
  /** What the file is and how it was mapped, in words, e.g. for a command's log line. */
  label: string;
}

interface RecordedMetadata {
  architecture?: ContextUnetConfig;
  schedule?: ScheduleConfig;
  weights?: string;
  source?: string;
}

function recordedMetadata(metadata: Record<string, string>, path: string): RecordedMetadata {
  const text = metadata[SAFETENSORS_METADATA_KEY];
  if (text === undefined) return {};
  try {
    return JSON.parse(text) as RecordedMetadata;
  } catch (error) {
    throw new Error(`${path}: metadata "${SAFETENSORS_METADATA_KEY}" is not JSON (${(error as Error).message}).`);
  }
}

/**
 * Builds a ContextUnet from the .pth / .pt / .safetensors file at `path` (shape inferred from
 * its tensors, keys mapped by name) and loads its weights; throws naming the file and every
 * missing, unexpected or mis-shaped key. The caller owns the model.
 */
export function loadModelFile(path: string): ModelFileContents {
  const isSafetensors = extname(path).toLowerCase() === ".safetensors";
  let tensors: StateDict;
  let recorded: RecordedMetadata = {};
  if (isSafetensors) {
    const contents = readSafetensors(path);
    tensors = contents.tensors;
    recorded = recordedMetadata(contents.metadata, path);
  } else {
    tensors = readPth(path);
  }
  const renamed = renameToProjectKeys(tensors);
  const config = inferUnetConfig(renamed.tensors, path);
  const model = new ContextUnet(config);
  try {
    const { weights, notes } = weightsFromStateDict(model.parameters, renamed.tensors, path);
    model.setWeights(weights);
    const schedule = recorded.schedule ?? { kind: "linear" as const, ...COURSE_SCHEDULE_CONFIG };
    const what = isSafetensors ? `safetensors${recorded.weights ? ` (${recorded.weights} weights of ${recorded.source ?? "a project model"})` : ""}` : "PyTorch state_dict";
    const scheduleNote = recorded.schedule ? "" : ", the course's schedule (T = 500, linear)";
    const label = `${what} from ${basename(path)}${scheduleNote}${[...renamed.notes, ...notes].map((n) => `; ${n}`).join("")}`;
    return { model, config, schedule, label };
  } catch (error) {
    model.dispose();
    throw error;
  }
}

/**
 * Writes `model` to `path` as safetensors with PyTorch's keys and layouts (what
 * `ContextUnet.load_state_dict` takes), recording the architecture, the schedule, which weights
 * these are and where they came from in the metadata. `batchesTracked` fills BatchNorm's counters.
 */
export async function exportSafetensors(
  path: string,
  model: ContextUnet,
  schedule: ScheduleConfig,
  about: { weights: string; source: string; batchesTracked?: number },
): Promise<void> {
  const stateDict = await stateDictFromModel(model, about.batchesTracked ?? 0);
  const recorded: RecordedMetadata = { architecture: { ...model.config }, schedule: { ...schedule }, weights: about.weights, source: about.source };
  writeSafetensors(path, stateDict, { format: "pt", [SAFETENSORS_METADATA_KEY]: JSON.stringify(recorded) });
}
