/**
 * The ARDM's measurement: batches seeded by their index (the same sprites as sampleArdm's own
 * calls), ceil(D / k) calls, the SFD and floor that sfdAgainstHeldOut gives those sprites, class
 * shares that sum to one, nothing leaked; bad k and n refused. A tiny transformer, a generated set.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LoadedArdm } from "../../src/lib/ardm/checkpoint";
import { variablesToImages } from "../../src/lib/ardm/images";
import { sampleArdm } from "../../src/lib/ardm/sampling";
import { ArdmTransformer } from "../../src/lib/ardm/transformer";
import { writeSpriteSet } from "../../src/lib/data/spriteFiles";
import { generateSpriteSet } from "../../src/lib/data/sprites/generate";
import { deriveSeed } from "../../src/lib/data/sprites/prng";
import { evaluateArdm } from "../../src/lib/metrics/ardmEvaluation";
import { SpriteClassifier } from "../../src/lib/metrics/classifier";
import { sfdAgainstHeldOut } from "../../src/lib/metrics/evaluate";
import { type RealSpriteSet, realSpriteSet } from "../../src/lib/metrics/realSprites";
import { useTestBackend } from "../helpers/backends";

const dir = mkdtempSync(join(tmpdir(), "ardm-evaluation-"));
let real: RealSpriteSet;
let classifier: SpriteClassifier;
let network: ArdmTransformer;

beforeAll(async () => {
  await useTestBackend();
  writeSpriteSet(join(dir, "sprites"), generateSpriteSet({ seed: 2, count: 400, variantsPerBase: 4 }));
  real = realSpriteSet(join(dir, "sprites"));
  classifier = new SpriteClassifier({ channels: [4, 4, 4], featureSize: 8, classes: 5 }, 1);
  network = new ArdmTransformer({ height: 16, width: 16, channels: 3, categories: 256, modelWidth: 8, layers: 1, heads: 2, mlpRatio: 2 }, 0);
});
afterAll(() => {
  classifier?.dispose();
  network?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

describe("evaluateArdm", () => {
  it("measures the sprites sampleArdm draws batch by batch, with the library's SFD, leaking nothing", async () => {
    const loaded = { network, manifest: { training: { epoch: 2, globalStep: 9 } }, weights: "raw", weightsLabel: "raw" } as unknown as LoadedArdm;
    const options = { checkpoint: "tiny", loaded, k: 256, n: 5, batch: 3, seed: 4, classifier, real, engine: "tfjs" as const };
    await evaluateArdm(options); // fills the backend's caches
    const before = tf.memory().numTensors;
    const row = await evaluateArdm(options);
    expect(tf.memory().numTensors).toBe(before);
    expect(row).toMatchObject({ checkpoint: "tiny", epoch: 2, globalStep: 9, weights: "raw", k: 256, calls: 3, n: 5, seed: 4, batch: 3 });
    // The same sprites drawn here: batch 0 of 3 on deriveSeed(4, 0), batch 1 of 2 on deriveSeed(4, 1).
    const drawn = await Promise.all([0, 1].map(async (b) => {
      const result = await sampleArdm(network, { count: b === 0 ? 3 : 2, seed: deriveSeed(4, b), perCall: 256 });
      const values = await result.samples.data();
      result.samples.dispose();
      return values;
    }));
    const values = new Int32Array(5 * 768);
    values.set(drawn[0], 0);
    values.set(drawn[1], 3 * 768);
    const images = variablesToImages(values, [16, 16, 3]);
    const { sfd, sfdFloor } = await sfdAgainstHeldOut(classifier, images, 4, real);
    images.dispose();
    expect(row.sfd).toBe(sfd);
    expect(row.sfdFloor).toBe(sfdFloor);
    expect(Object.values(row.classShares).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 10);
    expect(row.secondsPer32).toBeCloseTo((row.samplingSeconds * 32) / 5, 10);
  }, 120_000);

  it("refuses a k outside 1..D and too few sprites, saying what it takes", async () => {
    const loaded = { network, manifest: { training: { epoch: 0, globalStep: 0 } }, weights: "raw", weightsLabel: "raw" } as unknown as LoadedArdm;
    await expect(evaluateArdm({ checkpoint: "tiny", loaded, k: 769, n: 4, seed: 0, classifier, real })).rejects.toThrow("k must be a whole number in 1..768");
    await expect(evaluateArdm({ checkpoint: "tiny", loaded, k: 4, n: 1, seed: 0, classifier, real })).rejects.toThrow("n must be a whole number >= 2");
  });
});
