/** One checkpoint, one schedule: loadModel rebuilds the schedule a model was trained with. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { modelEvaluations, sample } from "../../src/lib/diffusion/samplers";
import { type LinearScheduleConfig, linearSchedule } from "../../src/lib/diffusion/schedule";
import { ContextUnet } from "../../src/lib/model/contextUnet";
import { MANIFEST_FILE, saveCheckpoint } from "../../src/lib/train/checkpoint";
import { loadModel } from "../../src/lib/train/trainingCheckpoint";
import { useTestBackend } from "../helpers/backends";

const MNIST_LIKE: LinearScheduleConfig = { T: 1000, betaStart: 1e-4, betaEnd: 0.02 };
let dir: string;

/** A small untrained ContextUnet saved with `schedule` in its manifest. */
async function saveSmallModel(folder: string, schedule: LinearScheduleConfig): Promise<void> {
  const model = new ContextUnet({ nFeat: 4 }, 1);
  saveCheckpoint(
    folder,
    {
      libraryVersion: "test",
      architecture: { name: "ContextUnet", config: { ...model.config }, parameterCount: model.parameterCount },
      schedule: { kind: "linear", ...schedule },
      training: null,
      data: null,
      backend: tf.getBackend(),
    },
    { model: await model.getWeights() },
  );
  model.dispose();
}

beforeAll(async () => {
  await useTestBackend();
  dir = mkdtempSync(join(tmpdir(), "checkpoint-schedule-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("loadModel's schedule", () => {
  it("is the T = 1000 schedule the checkpoint was saved with, and DDPM samples it in 1000 steps", async () => {
    const folder = join(dir, "t1000");
    await saveSmallModel(folder, MNIST_LIKE);
    const { model, schedule } = loadModel(folder);
    try {
      const expected = linearSchedule(MNIST_LIKE);
      expect(schedule.T).toBe(1000);
      expect(Array.from(schedule.alphaBar)).toEqual(Array.from(expected.alphaBar));
      expect(modelEvaluations({ sampler: "ddpm" }, schedule)).toBe(1000);
      const tSeen: number[] = [];
      const result = await sample(model, schedule, { count: 1, seed: 0 }, null, {
        sampler: "ddpm",
        saveFrame: () => false,
        onStep: ({ t }) => void tSeen.push(t),
      });
      result.samples.dispose();
      expect([result.completed, result.stepsTaken, tSeen.length, tSeen[0], tSeen[999]]).toEqual([true, 1000, 1000, 1000, 1]);
    } finally {
      model.dispose();
    }
  }, 120_000);

  it("names the kind and the file when the manifest holds a schedule this library cannot build", async () => {
    const folder = join(dir, "sigmoid");
    await saveSmallModel(folder, MNIST_LIKE);
    const path = join(folder, MANIFEST_FILE);
    const manifest = JSON.parse(readFileSync(path, "utf8"));
    writeFileSync(path, JSON.stringify({ ...manifest, schedule: { kind: "sigmoid", T: 1000, start: -3, end: 3 } }));
    const before = tf.memory().numTensors;
    expect(() => loadModel(folder)).toThrow(`${path}: schedule kind "sigmoid" is unknown to this library (it builds "linear" and "cosine")`);
    writeFileSync(path, JSON.stringify({ ...manifest, schedule: { kind: "linear", T: 0, betaStart: 1e-4, betaEnd: 0.02 } }));
    expect(() => loadModel(folder)).toThrow(`${path}: linearSchedule: T must be a positive integer, got 0.`);
    expect(tf.memory().numTensors).toBe(before);
  });
});
