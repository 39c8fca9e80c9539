/**
 * ContextUnet <-> PyTorch state_dict: keys, layouts and the architecture a state_dict implies.
 *
 * Keys: the project names its variables like the PyTorch reference (../shared/bench/contextunet_torch.py:
 * `down1.b1.conv1.0.weight`, `up1.up.weight`, `timeembed1.l1.weight`). The course's own
 * diffusion_utilities.py wraps UnetDown, UnetUp and EmbedFC in an nn.Sequential called `model`,
 * so its keys read `down1.model.0.conv1.0.weight`, `up1.model.0.weight`, `timeembed1.model.0.weight`;
 * both spellings load, and export writes the reference's.
 *
 * The course's init_conv has no learned shortcut: it draws a fresh random 1x1 conv (PyTorch's
 * default init, zero-mean) on every forward pass, so its .pth holds no `init_conv.shortcut.*`.
 * Loading such a file sets our learned shortcut to zero, the expectation of that random conv:
 * init_conv(x) = block(x) / 1.414, deterministic, where the course's output varies run to run.
 */
import type { ContextUnet, ContextUnetConfig } from "../model/contextUnet";
import type { ParameterKind, ParameterStore, WeightMap } from "../model/parameters";
import { fromTorchLayout, toTorchLayout } from "../model/torchLayout";
import type { StateDict } from "./pthFile";

/** The course's key spellings -> the project's (see the module comment). */
const COURSE_RENAMES: Array<[RegExp, string]> = [
  [/^(down[12])\.model\.0\./, "$1.b1."],
  [/^(down[12])\.model\.1\./, "$1.b2."],
  [/^(up[12])\.model\.0\./, "$1.up."],
  [/^(up[12])\.model\.1\./, "$1.b1."],
  [/^(up[12])\.model\.2\./, "$1.b2."],
  [/^((?:time|context)embed[12])\.model\.0\./, "$1.l1."],
  [/^((?:time|context)embed[12])\.model\.2\./, "$1.l2."],
];

const SHORTCUT_KEYS = ["init_conv.shortcut.weight", "init_conv.shortcut.bias"];

/** A state_dict's tensors under the project's keys, and what was done to get there. */
export interface RenamedStateDict {
  tensors: StateDict;
  /** Plain-words notes: the course's key spelling, a DataParallel "module." prefix. */
  notes: string[];
}

/** Renames the course's keys (and strips DataParallel's "module." prefix) to the project's. */
export function renameToProjectKeys(stateDict: StateDict): RenamedStateDict {
  const notes: string[] = [];
  const keys = [...stateDict.keys()];
  const stripModule = keys.length > 0 && keys.every((k) => k.startsWith("module."));
  if (stripModule) notes.push('keys carried DataParallel\'s "module." prefix (removed)');
  let renamed = 0;
  const tensors: StateDict = new Map();
  for (const [key, tensor] of stateDict) {
    let name = stripModule ? key.slice("module.".length) : key;
    for (const [pattern, replacement] of COURSE_RENAMES) {
      const next = name.replace(pattern, replacement);
      if (next !== name) renamed += 1;
      name = next;
    }
    tensors.set(name, tensor);
  }
  if (renamed > 0) notes.push(`the course's key names (${renamed} keys like "down1.model.0...") mapped to the project's ("down1.b1...")`);
  return { tensors, notes };
}

/** PyTorch's shape for a parameter of `kind` whose shape here is `shape`. */
export function torchShape(kind: ParameterKind, shape: number[]): number[] {
  if (kind === "conv") return [shape[3], shape[2], shape[0], shape[1]];
  if (kind === "convT") return [shape[0], shape[3], shape[1], shape[2]];
  if (kind === "linear") return [shape[1], shape[0]];
  return shape.slice();
}

/**
 * The ContextUnet configuration a state_dict (project keys) implies: n_feat and in_channels from
 * init_conv's first conv, n_cfeat from contextembed1, height = 4 x up0's kernel, outChannels from
 * the last conv. Throws naming the keys it lacks.
 */
export function inferUnetConfig(tensors: StateDict, file: string): ContextUnetConfig {
  const needed = ["init_conv.conv1.0.weight", "contextembed1.l1.weight", "up0.0.weight", "out.3.weight"];
  const missing = needed.filter((k) => tensors.get(k)?.shape.length !== (k.startsWith("contextembed") ? 2 : 4));
  if (missing.length > 0) {
    throw new Error(`${file}: not a ContextUnet state_dict: ${missing.map((k) => `"${k}"`).join(", ")} missing or not of the expected rank (its keys begin ${[...tensors.keys()].slice(0, 3).join(", ")}).`);
  }
  const shape = (k: string) => tensors.get(k)!.shape;
  return {
    inChannels: shape("init_conv.conv1.0.weight")[1],
    nFeat: shape("init_conv.conv1.0.weight")[0],
    nContext: shape("contextembed1.l1.weight")[1],
    height: 4 * shape("up0.0.weight")[2],
    outChannels: shape("out.3.weight")[0],
  };
}

/**
 * Our WeightMap from a state_dict under the project's keys (layouts converted), for the model
 * whose parameters are `store`. BatchNorm's num_batches_tracked counters are dropped. A missing
 * init_conv shortcut (the course's model) becomes zero, with a note. Throws listing every
 * missing, unexpected and mis-shaped key, with PyTorch's shapes.
 */
export function weightsFromStateDict(store: ParameterStore, tensors: StateDict, file: string): { weights: WeightMap; notes: string[] } {
  const problems: string[] = [];
  const notes: string[] = [];
  const weights: WeightMap = {};
  const expected = new Set(store.keys());
  for (const key of tensors.keys()) {
    if (!expected.has(key) && !key.endsWith(".num_batches_tracked")) problems.push(`unexpected key "${key}" [${tensors.get(key)!.shape}]`);
  }
  const noShortcut = SHORTCUT_KEYS.every((k) => expected.has(k) && !tensors.has(k));
  if (noShortcut) {
    notes.push("init_conv.shortcut is not in the file (the course draws a new random 1x1 conv every forward pass): set to zero, that conv's expectation");
  }
  for (const key of expected) {
    const spec = store.spec(key);
    const want = torchShape(spec.kind, spec.shape);
    const tensor = tensors.get(key);
    if (!tensor) {
      if (noShortcut && SHORTCUT_KEYS.includes(key)) weights[key] = { shape: spec.shape.slice(), data: new Float32Array(spec.shape.reduce((n, d) => n * d, 1)) };
      else problems.push(`missing key "${key}" [${want}]`);
    } else if (tensor.shape.join(",") !== want.join(",")) {
      problems.push(`"${key}" has shape [${tensor.shape}], the model needs [${want}]`);
    } else if (tensor.dtype !== "float32") {
      problems.push(`"${key}" is ${tensor.dtype}, the model needs float32`);
    } else {
      weights[key] = fromTorchLayout(spec.kind, { shape: tensor.shape, data: tensor.data });
    }
  }
  if (problems.length > 0) throw new Error(`${file}: the state_dict does not fit a ContextUnet(${describeShape(store)}):\n  ${problems.join("\n  ")}`);
  return { weights, notes };
}

function describeShape(store: ParameterStore): string {
  const first = store.get("init_conv.conv1.0.weight").shape;
  return `in_channels=${first[2]}, n_feat=${first[3]}`;
}

/**
 * The model's weights as a PyTorch state_dict: the reference's keys, PyTorch's layouts (NCHW
 * convolutions), and an int64 num_batches_tracked per BatchNorm (`batchesTracked`, e.g. the
 * training step) so that `load_state_dict(strict=True)` takes it.
 */
export async function stateDictFromModel(model: ContextUnet, batchesTracked = 0): Promise<StateDict> {
  const weights = await model.getWeights();
  const stateDict: StateDict = new Map();
  for (const key of model.parameters.keys()) {
    const spec = model.parameters.spec(key);
    const { shape, data } = weights[key];
    stateDict.set(key, { dtype: "float32", shape: torchShape(spec.kind, shape), data: toTorchLayout(spec.kind, shape, data) });
    if (key.endsWith(".running_var")) {
      stateDict.set(key.replace(/running_var$/, "num_batches_tracked"), { dtype: "int64", shape: [], data: Float64Array.of(batchesTracked) });
    }
  }
  return stateDict;
}
