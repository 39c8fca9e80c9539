/**
 * bench/continue_training_torch.py, the way out to a GPU: a project model exported to safetensors
 * trains on in PyTorch (here 2 steps on the CPU, on 8 generated sprites with labels) and comes
 * back: the project loads both files it writes (.safetensors and .pth), with the same weights,
 * changed by the training.
 */
import { execFileSync } from "node:child_process";
import { resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeNpy } from "../../src/lib/data/npy";
import { exportSafetensors } from "../../src/lib/interop/modelFile";
import { ContextUnet } from "../../src/lib/model/contextUnet";
import { loadModel } from "../../src/lib/train/trainingCheckpoint";
import { useTestBackend } from "../helpers/backends";
import { PYTHON, scratchFolder, torchUnavailable } from "./torchInterop";

const SCRIPT = resolve(__dirname, "../../bench/continue_training_torch.py");
const unavailable = torchUnavailable();
if (unavailable && process.env.CI) throw new Error(`PyTorch reference needed in CI: ${unavailable}`);

describe.skipIf(unavailable !== null)(`continue_training_torch.py (${unavailable ?? "reference present"})`, () => {
  const scratch = scratchFolder();
  beforeAll(async () => {
    await useTestBackend();
  });
  afterAll(() => scratch.remove());

  it("trains an exported model for 2 steps on the CPU and hands it back to the project", async () => {
    const model = new ContextUnet({ nFeat: 16 }, 2);
    const schedule = { kind: "linear" as const, T: 500, betaStart: 1e-4, betaEnd: 0.02 };
    await exportSafetensors(scratch.path("start.safetensors"), model, schedule, { weights: "raw", source: "test" });
    const images = Uint8Array.from({ length: 8 * 16 * 16 * 3 }, (_, i) => (i * 37) % 256);
    const labels = Float64Array.from({ length: 8 * 5 }, (_, i) => (i % 5 === Math.floor(i / 5) % 5 ? 1 : 0));
    writeNpy(scratch.path("sprites.npy"), { dtype: "uint8", shape: [8, 16, 16, 3], data: images });
    writeNpy(scratch.path("labels.npy"), { dtype: "float64", shape: [8, 5], data: labels });

    const out = execFileSync(PYTHON, [
      SCRIPT, "--model", scratch.path("start.safetensors"), "--images", scratch.path("sprites.npy"), "--labels", scratch.path("labels.npy"),
      "--epochs", "1", "--max-steps", "2", "--batch", "4", "--device", "cpu",
      "--out", scratch.path("continued.safetensors"), "--pth", scratch.path("continued.pth"),
    ], { encoding: "utf8", env: { ...process.env, OMP_NUM_THREADS: "1" } });
    expect(out).toContain("ContextUnet(n_feat=16, n_cfeat=5, height=16) on cpu, 8 sprites, with context, T = 500");
    expect(out).toMatch(/epoch 0 step 2 loss \d+\.\d+/);
    expect(out).toContain("after 2 steps");

    const fromSafetensors = loadModel(scratch.path("continued.safetensors"));
    const fromPth = loadModel(scratch.path("continued.pth"));
    try {
      expect(fromSafetensors.weightsLabel).toContain("start.safetensors + 2 PyTorch steps");
      expect(fromSafetensors.schedule.config).toEqual(schedule);
      const [start, a, b] = [await model.getWeights(), await fromSafetensors.model.getWeights(), await fromPth.model.getWeights()];
      for (const key of Object.keys(start)) expect(Array.from(b[key].data), key).toEqual(Array.from(a[key].data));
      expect(Array.from(a["out.3.weight"].data)).not.toEqual(Array.from(start["out.3.weight"].data));
      expect(Array.from(a["down1.b1.conv1.1.running_mean"].data)).not.toEqual(Array.from(start["down1.b1.conv1.1.running_mean"].data));
    } finally {
      for (const m of [fromSafetensors.model, fromPth.model, model]) m.dispose();
    }
  });
});
