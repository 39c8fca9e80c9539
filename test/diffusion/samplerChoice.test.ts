/** The one sampling entry point: `sample` by name, its labels and costs, and the errors it teaches. */
import * as tf from "@tensorflow/tfjs-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SamplerChoice, checkSamplerChoice, guidanceLabel, modelEvaluations, parseSamplerName, sample, samplerLabel } from "../../src/lib/diffusion/samplers";
import { type SampleResult, sampleDdim, sampleDdpm, sampleDdpmWithoutNoise } from "../../src/lib/diffusion/sampling";
import { courseSchedule, linearSchedule } from "../../src/lib/diffusion/schedule";
import { useTestBackend } from "../helpers/backends";
import { MixtureOracle, patternImage } from "../helpers/oracle";

// A short schedule and 4 x 4 images keep every run here well under a second.
const schedule = linearSchedule({ T: 100, betaStart: 1e-4, betaEnd: 0.02 });
const start = { count: 3, seed: 4, imageShape: [4, 4, 3] as [number, number, number] };

describe("sample: one entry point for the three samplers", () => {
  let oracle: MixtureOracle;
  beforeAll(async () => {
    await useTestBackend();
    oracle = new MixtureOracle([patternImage(0, 0.8, 4), patternImage(1.5, 0.8, 4)], [0.5, 0.5], schedule, [4, 4, 3]);
  });
  afterAll(() => oracle.dispose());

  const values = async (result: SampleResult) => {
    const out = { samples: Array.from(await result.samples.data()), frames: result.frames ? Array.from(await result.frames.data()) : null, frameSteps: result.frameSteps };
    tf.dispose([result.samples, ...(result.frames ? [result.frames] : [])]);
    return out;
  };

  it("gives bit-identical samples and frames to the direct sampler calls, for every name", async () => {
    const options = { seed: 9 };
    const cases: Array<[SamplerChoice, () => Promise<SampleResult>]> = [
      [{ sampler: "ddpm" }, () => sampleDdpm(oracle, schedule, start, null, options)],
      [{ sampler: "ddpm-no-noise" }, () => sampleDdpmWithoutNoise(oracle, schedule, start, null, options)],
      [{ sampler: "ddim" }, () => sampleDdim(oracle, schedule, start, null, { ...options, steps: 25 })],
      [{ sampler: "ddim", steps: 10, eta: 0.5 }, () => sampleDdim(oracle, schedule, start, null, { ...options, steps: 10, eta: 0.5 })],
    ];
    for (const [choice, direct] of cases) {
      const viaSample = await values(await sample(oracle, schedule, start, null, { ...choice, ...options }));
      expect(viaSample, samplerLabel(choice, schedule)).toEqual(await values(await direct()));
    }
  });

  it("passes the loop options on: frames, progress and early stop", async () => {
    const seen: number[] = [];
    const result = await sample(oracle, schedule, start, null, {
      sampler: "ddim",
      steps: 20,
      saveFrame: () => false,
      onStep: ({ step }) => void seen.push(step),
      shouldStop: () => seen.length >= 4,
    });
    expect([result.frames, result.stepsTaken, result.completed, seen]).toEqual([null, 4, false, [1, 2, 3, 4]]);
    result.samples.dispose();
  });

  it("rejects bad choices before making a tensor", async () => {
    const before = tf.memory().numTensors;
    await expect(sample(oracle, schedule, start, null, { sampler: "DDIM" as "ddim" })).rejects.toThrow('Unknown sampler "DDIM": use one of ddpm, ddim, ddpm-no-noise.');
    await expect(sample(oracle, schedule, start, null, { sampler: "ddpm", steps: 30 })).rejects.toThrow(/DDPM steps must divide T = 100, got 30/);
    await expect(sample(oracle, schedule, start, null, { sampler: "ddpm", eta: 1 })).rejects.toThrow(/Sampler ddpm: eta belongs to DDIM only/);
    await expect(sample(oracle, schedule, start, null, { sampler: "ddpm-no-noise", steps: 5, eta: 1 })).rejects.toThrow(/steps and eta belong to DDIM only/);
    await expect(sample(oracle, schedule, start, null, { sampler: "ddim", steps: 30 })).rejects.toThrow(/DDIM steps must divide T = 100, got 30/);
    await expect(sample(oracle, schedule, start, null, { sampler: "ddim", eta: -1 })).rejects.toThrow(/eta must be a number >= 0.*got -1/);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe("sampler names, labels and costs", () => {
  it("parses the three names and lists them for anything else", () => {
    expect(["ddpm", "ddim", "ddpm-no-noise"].map(parseSamplerName)).toEqual(["ddpm", "ddim", "ddpm-no-noise"]);
    expect(() => parseSamplerName("ddpm-no-noise ")).toThrow('Unknown sampler "ddpm-no-noise ": use one of ddpm, ddim, ddpm-no-noise.');
  });

  it("labels a run as the lessons and commands print it", () => {
    expect(samplerLabel({ sampler: "ddpm" }, courseSchedule)).toBe("DDPM-500");
    expect(samplerLabel({ sampler: "ddim" }, courseSchedule)).toBe("DDIM-25");
    expect(samplerLabel({ sampler: "ddim", steps: 25, eta: 0 }, courseSchedule)).toBe("DDIM-25");
    expect(samplerLabel({ sampler: "ddim", steps: 25, eta: 0.5 }, courseSchedule)).toBe("DDIM-25, eta 0.5");
    expect(samplerLabel({ sampler: "ddpm-no-noise" }, courseSchedule)).toBe("DDPM-500 without noise");
    expect(samplerLabel({ sampler: "ddpm" }, linearSchedule({ T: 1000, betaStart: 1e-4, betaEnd: 0.02 }))).toBe("DDPM-1000, x0 clipped");
    expect(samplerLabel({ sampler: "ddpm", steps: 50 }, courseSchedule)).toBe("DDPM-50");
  });

  it("labels a guided run with its w and s, and an unguided one (w = s = 0) as before", () => {
    expect(samplerLabel({ sampler: "ddim", guidance: 2 }, courseSchedule)).toBe("DDIM-25, CFG w = 2");
    expect(samplerLabel({ sampler: "ddim", classifierGuidance: { scale: 3 } }, courseSchedule)).toBe("DDIM-25, classifier s = 3");
    expect(samplerLabel({ sampler: "ddpm", guidance: 1.5, classifierGuidance: { scale: 3 } }, courseSchedule)).toBe("DDPM-500, CFG w = 1.5, classifier s = 3");
    expect(samplerLabel({ sampler: "ddim", eta: 0.5, guidance: 2 }, courseSchedule)).toBe("DDIM-25, eta 0.5, CFG w = 2");
    expect(samplerLabel({ sampler: "ddim", guidance: 0, classifierGuidance: { scale: 0 } }, courseSchedule)).toBe("DDIM-25");
    expect(guidanceLabel({})).toBe("");
    expect(guidanceLabel({ guidance: 4 })).toBe("CFG w = 4");
  });

  it("counts model evaluations: T for DDPM (or its respaced steps), the steps for DDIM", () => {
    expect(modelEvaluations({ sampler: "ddpm" }, courseSchedule)).toBe(500);
    expect(modelEvaluations({ sampler: "ddpm", steps: 100 }, courseSchedule)).toBe(100);
    expect(modelEvaluations({ sampler: "ddpm-no-noise" }, linearSchedule({ T: 1000, betaStart: 1e-4, betaEnd: 0.02 }))).toBe(1000);
    expect(modelEvaluations({ sampler: "ddim" }, courseSchedule)).toBe(25);
    expect(modelEvaluations({ sampler: "ddim", steps: 50 }, courseSchedule)).toBe(50);
    expect(checkSamplerChoice({ sampler: "ddim", eta: 1 }, courseSchedule)).toEqual({ steps: 25, eta: 1, clipDenoised: false });
    expect(() => modelEvaluations({ sampler: "ddpm", eta: 0 }, courseSchedule)).toThrow(/eta belongs to DDIM only/);
  });
});
