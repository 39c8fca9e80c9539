/**
 * loadModel on single files and exportSafetensors, without PyTorch: a project model (learned
 * variance, cosine schedule, n_feat 16) exports with PyTorch's keys and shapes and loads back to
 * the same weights, architecture and schedule; a tensor of the wrong shape for its key, missing and
 * unexpected keys, a file that is no ContextUnet, and asking for EMA weights each get one clear
 * error naming the file and the keys.
 */
import { writeFileSync } from "node:fs";
import * as tf from "@tensorflow/tfjs-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stateDictFromModel } from "../../src/lib/interop/contextUnetStateDict";
import { exportSafetensors } from "../../src/lib/interop/modelFile";
import { encodeSafetensors, readSafetensors } from "../../src/lib/interop/safetensors";
import type { StateDict } from "../../src/lib/interop/pthFile";
import { ContextUnet } from "../../src/lib/model/contextUnet";
import { loadModel } from "../../src/lib/train/trainingCheckpoint";
import { useTestBackend } from "../helpers/backends";
import { scratchFolder } from "./torchInterop";

const SCHEDULE = { kind: "cosine" as const, T: 200, offset: 0.008, maxBeta: 0.999 };

describe("model files (.safetensors) and loadModel", () => {
  const scratch = scratchFolder();
  let model: ContextUnet;
  let stateDict: StateDict;

  beforeAll(async () => {
    await useTestBackend();
    model = new ContextUnet({ nFeat: 16, outChannels: 6 }, 4);
    stateDict = await stateDictFromModel(model, 12);
  });
  afterAll(() => {
    model?.dispose();
    scratch.remove();
  });

  /** Writes `tensors` as a .safetensors file and returns its path. */
  const write = (name: string, tensors: StateDict) => {
    writeFileSync(scratch.path(name), encodeSafetensors(tensors));
    return scratch.path(name);
  };

  it("exports PyTorch's keys and NCHW shapes, with one int64 num_batches_tracked per BatchNorm", async () => {
    await exportSafetensors(scratch.path("m.safetensors"), model, SCHEDULE, { weights: "ema", source: "models/x" });
    const { tensors, metadata } = readSafetensors(scratch.path("m.safetensors"));
    expect(tensors.get("init_conv.conv1.0.weight")!.shape).toEqual([16, 3, 3, 3]);
    expect(tensors.get("up1.up.weight")!.shape).toEqual([64, 16, 2, 2]);
    expect(tensors.get("timeembed1.l1.weight")!.shape).toEqual([32, 1]);
    expect(tensors.get("out.3.weight")!.shape).toEqual([6, 16, 3, 3]);
    const counters = [...tensors].filter(([k]) => k.endsWith("num_batches_tracked"));
    expect(counters.length).toBe([...tensors.keys()].filter((k) => k.endsWith("running_var")).length);
    expect(counters.every(([, t]) => t.dtype === "int64" && t.shape.length === 0)).toBe(true);
    expect(metadata.format).toBe("pt");
  });

  it("loads an export back: same architecture, schedule and weights", async () => {
    const loaded = loadModel(scratch.path("m.safetensors"));
    try {
      expect(loaded.model.config).toEqual(model.config);
      expect(loaded.schedule.config).toEqual(SCHEDULE);
      expect(loaded.weightsLabel).toBe("safetensors (ema weights of models/x) from m.safetensors");
      const [ours, theirs] = [await model.getWeights(), await loaded.model.getWeights()];
      for (const key of Object.keys(ours)) expect(Array.from(theirs[key].data), key).toEqual(Array.from(ours[key].data));
    } finally {
      loaded.model.dispose();
    }
  });

  it("refuses a tensor of the wrong shape for its key, naming the file, the key and both shapes", () => {
    const wrong = new Map(stateDict);
    wrong.set("down1.b1.conv1.0.weight", { dtype: "float32", shape: [16, 16, 1, 9], data: new Float32Array(16 * 16 * 9) });
    const file = write("wrong.safetensors", wrong);
    expect(() => loadModel(file)).toThrow(`${file}: the state_dict does not fit a ContextUnet(in_channels=3, n_feat=16):\n  "down1.b1.conv1.0.weight" has shape [16,16,1,9], the model needs [16,16,3,3]`);
  });

  it("lists every missing and unexpected key", () => {
    const changed = new Map(stateDict);
    changed.delete("up2.b2.conv2.1.running_mean");
    changed.delete("out.1.bias");
    changed.set("extra.weight", { dtype: "float32", shape: [2], data: new Float32Array(2) });
    const file = write("keys.safetensors", changed);
    expect(() => loadModel(file)).toThrow(/unexpected key "extra\.weight" \[2\]\n {2}missing key "up2\.b2\.conv2\.1\.running_mean" \[16\]\n {2}missing key "out\.1\.bias" \[16\]$/);
  });

  it("refuses a file that holds no ContextUnet, and EMA weights from a single file", () => {
    const file = write("other.safetensors", new Map([["fc.weight", { dtype: "float32", shape: [2, 2], data: new Float32Array(4) }]]));
    expect(() => loadModel(file)).toThrow(`${file}: not a ContextUnet state_dict: "init_conv.conv1.0.weight", "contextembed1.l1.weight", "up0.0.weight", "out.3.weight" missing`);
    expect(() => loadModel(scratch.path("m.safetensors"), { weights: "ema" })).toThrow(/holds one set of weights and no EMA/);
  });

  it("leaves no tensors behind, on success and on failure", () => {
    const before = tf.memory().numTensors;
    loadModel(scratch.path("m.safetensors")).model.dispose();
    expect(() => loadModel(scratch.path("wrong.safetensors"))).toThrow();
    expect(tf.memory().numTensors).toBe(before);
  });
});
