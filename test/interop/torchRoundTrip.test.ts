/**
 * Both directions against real PyTorch (Debian's python3-torch): PyTorch saves a randomly
 * initialised reference ContextUnet with torch.save, loadModel reads the .pth and predicts what
 * PyTorch predicted (to 1e-5); the project exports safetensors and PyTorch, loading it into the
 * reference model with load_state_dict(strict=True), predicts what the project predicts (to 1e-5).
 * The course's own key spelling and its missing init_conv shortcut load too.
 */
import * as tf from "@tensorflow/tfjs-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exportSafetensors } from "../../src/lib/interop/modelFile";
import type { ContextUnet } from "../../src/lib/model/contextUnet";
import { loadModel } from "../../src/lib/train/trainingCheckpoint";
import { useTestBackend } from "../helpers/backends";
import { type TorchIo, maxAbsDifference, nchwToNhwc, nhwcToNchw, readJson, runTorch, scratchFolder, torchUnavailable } from "./torchInterop";

const unavailable = torchUnavailable();
if (unavailable && process.env.CI) throw new Error(`PyTorch reference needed in CI: ${unavailable}`);

/** Our eval-mode prediction on PyTorch's inputs, NCHW like PyTorch's outputs. */
function predict(model: ContextUnet, io: TorchIo): Float32Array {
  const [n, c, h] = io.shape;
  return tf.tidy(() => {
    const x = tf.tensor4d(nchwToNhwc(io.x, io.shape), [n, h, h, c]);
    const y = model.predictNoise(x, tf.tensor1d(io.t), tf.tensor2d(io.c, [n, io.c.length / n]));
    return nhwcToNchw(y.dataSync(), y.shape);
  });
}

describe.skipIf(unavailable !== null)(`PyTorch round trips (${unavailable ?? "reference present"})`, () => {
  const scratch = scratchFolder();
  const errors: Record<string, number> = {};

  beforeAll(async () => {
    await useTestBackend();
  });
  afterAll(() => {
    console.info(`[interop] max |ours - PyTorch|: ${JSON.stringify(errors)}`);
    scratch.remove();
  });

  it("loads a torch.save'd reference ContextUnet and predicts what PyTorch predicts", () => {
    runTorch(["save-pth", "--out", scratch.path("reference.pth"), "--io", scratch.path("reference.json"), "--seed", "3"]);
    const io = readJson<TorchIo>(scratch.path("reference.json"));
    const { model, schedule, manifest, weights, weightsLabel } = loadModel(scratch.path("reference.pth"));
    try {
      expect(manifest.architecture.config).toEqual({ inChannels: 3, nFeat: 64, nContext: 5, height: 16, outChannels: 3 });
      expect(model.parameterCount).toBe(1481027);
      expect([schedule.T, schedule.config.kind, weights]).toEqual([500, "linear", "raw"]);
      expect(weightsLabel).toContain("course's schedule");
      errors.pth = maxAbsDifference(predict(model, io), io.y);
      expect(errors.pth).toBeLessThan(1e-5);
    } finally {
      model.dispose();
    }
  });

  it("exports safetensors that PyTorch loads strictly and that predict what the project predicts", async () => {
    const io = readJson<TorchIo>(scratch.path("reference.json"));
    const { model, schedule } = loadModel(scratch.path("reference.pth"));
    try {
      await exportSafetensors(scratch.path("exported.safetensors"), model, schedule.config, { weights: "raw", source: "reference.pth", batchesTracked: 7 });
      runTorch(["run-safetensors", "--model", scratch.path("exported.safetensors"), "--io", scratch.path("reference.json"), "--out", scratch.path("torch-y.json")]);
      const torchY = readJson<{ y: number[]; reader: string }>(scratch.path("torch-y.json"));
      console.info(`[interop] PyTorch read the export with ${torchY.reader}`);
      errors.safetensorsInPyTorch = maxAbsDifference(torchY.y, predict(model, io));
      expect(errors.safetensorsInPyTorch).toBeLessThan(1e-5);
    } finally {
      model.dispose();
    }
    const back = loadModel(scratch.path("exported.safetensors"));
    try {
      expect(back.weightsLabel).toContain("raw weights of reference.pth");
      errors.safetensorsBack = maxAbsDifference(predict(back.model, io), io.y);
      expect(errors.safetensorsBack).toBeLessThan(1e-5);
    } finally {
      back.model.dispose();
    }
  });

  it("loads the course's key names and shape (n_feat 32, n_cfeat 3, height 20) with init_conv's shortcut at zero", () => {
    runTorch(["save-pth", "--out", scratch.path("course.pth"), "--io", scratch.path("course.json"), "--layout", "course", "--nf", "32", "--nc", "3", "--height", "20"]);
    const io = readJson<TorchIo>(scratch.path("course.json"));
    const { model, weightsLabel } = loadModel(scratch.path("course.pth"));
    try {
      expect(model.config).toEqual({ inChannels: 3, nFeat: 32, nContext: 3, height: 20, outChannels: 3 });
      expect(weightsLabel).toContain("the course's key names");
      expect(weightsLabel).toContain("init_conv.shortcut is not in the file");
      expect(model.parameters.get("init_conv.shortcut.weight").dataSync().every((v) => v === 0)).toBe(true);
      expect(model.parameters.get("init_conv.shortcut.bias").dataSync().every((v) => v === 0)).toBe(true);
      // PyTorch's y comes from the reference model with its shortcut zeroed: the same function.
      errors.coursePth = maxAbsDifference(predict(model, io), io.y);
      expect(errors.coursePth).toBeLessThan(1e-5);
    } finally {
      model.dispose();
    }
  });

  it("zero is the expectation of the course's random init_conv shortcut (PyTorch, 4000 forwards)", () => {
    runTorch(["course-shortcut", "--out", scratch.path("shortcut.json")]);
    const { single_draw: single, mean_of_draws: mean } = readJson<{ single_draw: number; mean_of_draws: number }>(scratch.path("shortcut.json"));
    console.info(`[interop] course init_conv vs zero shortcut: one draw ${single.toFixed(3)}, mean of 4000 draws ${mean.toFixed(4)}`);
    // One draw moves init_conv's output by O(1); the mean of n draws by O(1 / sqrt n) around the zero shortcut.
    expect(single).toBeGreaterThan(0.3);
    expect(mean).toBeLessThan(single / 10);
  });

  it("leaves no tensors behind", () => {
    const before = tf.memory().numTensors;
    const { model } = loadModel(scratch.path("reference.pth"));
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
