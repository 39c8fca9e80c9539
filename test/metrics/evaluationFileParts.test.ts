/**
 * The evaluation file's parts beside the sprite rows (promptMatch, inversion, ardm): one row per
 * run, a new measurement of the same run replacing the old, rows in the order of their run fields,
 * and every other part kept as it was.
 */
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { projectPath } from "../../src/lib/data/projectRoot";
import type { ArdmEvaluation } from "../../src/lib/metrics/ardmEvaluation";
import { findArdmEvaluation, findPromptMatchEvaluation, readEvaluations, recordArdmEvaluation, recordInversionEvaluation, recordPromptMatchEvaluation } from "../../src/lib/metrics/evaluationFile";
import type { InversionEvaluation } from "../../src/lib/metrics/inversionMatch";
import type { PromptMatchEvaluation } from "../../src/lib/metrics/promptMatchEvaluation";

const dir = mkdtempSync(join(tmpdir(), "evaluation-parts-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ardmRow = (k: number, sfd: number): ArdmEvaluation => ({
  checkpoint: "test/ardm-fake", epoch: 5, globalStep: 7500, weights: "ema", k, calls: Math.ceil(768 / k), n: 500, seed: 0, batch: 50,
  sfd, sfdFloor: 2, classShares: {}, secondsPer32: 1, samplingSeconds: 10, backend: "tensorflow",
});
const promptRow = (guidance: number, both: number): PromptMatchEvaluation => {
  const set = { rows: [], generated: { count: 50, kind: 1, colour: 1, both }, real: null };
  return {
    checkpoint: "test/text-fake", epoch: 6, weights: "ema", sampler: "ddim", steps: 25, eta: 0, clipDenoised: false, label: "DDIM-25", guidance, perPrompt: 50, seed: 0,
    classifiers: { kind: { dir: "k", heldOutAccuracy: 1 }, colour: { dir: "c", heldOutAccuracy: 1 } }, realReference: "", heldOut: set, trained: set, seconds: 1, backend: "tensorflow",
  };
};

describe("the evaluation file's promptMatch, inversion and ardm parts", () => {
  it("keep one row per run, replace a run's row, sort by the run fields and leave the other parts alone", () => {
    const path = join(dir, "evaluation.json");
    copyFileSync(projectPath("models/evaluation.json"), path);
    const shipped = readEvaluations(path);
    recordArdmEvaluation(path, ardmRow(64, 30));
    recordArdmEvaluation(path, ardmRow(4, 10));
    recordArdmEvaluation(path, ardmRow(64, 20)); // replaces the first
    recordArdmEvaluation(path, { ...ardmRow(64, 20), engine: "onnx", secondsPer32: 0.5 }); // the same run on ONNX Runtime: beside it
    recordPromptMatchEvaluation(path, promptRow(2, 0.5));
    recordPromptMatchEvaluation(path, promptRow(0, 0.25));
    recordInversionEvaluation(path, { checkpoint: "test/text-robot-fake", sampler: "ddim", steps: 25, eta: 0, clipDenoised: false, guidance: 0, n: 100, seed: 0 } as InversionEvaluation);
    const file = readEvaluations(path);
    expect(file.results).toEqual(shipped.results);
    expect(file.imageSets).toEqual(shipped.imageSets);
    expect(file.ardm!.filter((r) => r.checkpoint === "test/ardm-fake" && r.n === 500 && r.batch === 50 && r.seed === 0).map((r) => [r.k, r.sfd, r.engine])).toEqual([
      [4, 10, undefined],
      [64, 20, undefined],
      [64, 20, "onnx"],
    ]);
    expect(findArdmEvaluation(file, { checkpoint: "test/ardm-fake", weights: "ema", k: 64, n: 500, seed: 0, batch: 50 })?.secondsPer32).toBe(1);
    expect(findArdmEvaluation(file, { checkpoint: "test/ardm-fake", weights: "ema", k: 64, n: 500, seed: 0, batch: 50, engine: "onnx" })?.secondsPer32).toBe(0.5);
    expect(findArdmEvaluation(file, { checkpoint: "test/ardm-fake", weights: "raw", k: 64, n: 500, seed: 0, batch: 50 })).toBeUndefined();
    const key = { checkpoint: "test/text-fake", weights: "ema" as const, sampler: "ddim" as const, steps: 25, eta: 0, clipDenoised: false, perPrompt: 50, seed: 0 };
    expect(findPromptMatchEvaluation(file, { ...key, guidance: 0 })?.heldOut.generated.both).toBe(0.25);
    expect(findPromptMatchEvaluation(file, { ...key, guidance: 2 })?.heldOut.generated.both).toBe(0.5);
    expect(file.inversion!.some((r) => r.checkpoint === "test/text-robot-fake")).toBe(true);
  });
});
