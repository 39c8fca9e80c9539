/** DDPM config files: the committed ones load and round-trip; every kind of mistake gives one error naming its key. */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ConfigError } from "../../src/lib/config/configError";
import { type DdpmConfig, attentionUnetConfigOf, scheduleConfigOf } from "../../src/lib/config/ddpmConfig";
import { formatDdpmConfig, loadDdpmConfig, parseDdpmConfig } from "../../src/lib/config/ddpmConfigFile";
import { ddpmTrainConfig } from "../../src/lib/train/ddpmRun";

const CONFIGS = resolve(__dirname, "../../configs");
const scratch = mkdtempSync(join(tmpdir(), "ddpm-config-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A valid config as plain JSON, fresh for each mutation. */
function valid(): Record<string, any> {
  return {
    version: 1,
    description: "a test",
    dataset: { name: "textures", imageSize: 28, channels: 3 },
    model: {
      downChannels: [16, 32, 64], midChannels: [64, 32], downsample: [true, true], timeEmbeddingSize: 64,
      downLayers: 1, midLayers: 1, upLayers: 1, attentionHeads: 2, normGroups: 8, finalChannels: 16,
    },
    training: { T: 1000, betaStart: 0.0001, betaEnd: 0.02, batchSize: 64, epochs: 2, learningRate: 0.0003, seed: 0, out: "models/test" },
  };
}

/** The ConfigError that parsing `value` throws (fails the test if it parses). */
function errorOf(value: unknown): ConfigError {
  try {
    parseDdpmConfig(value, "test.json");
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error("the config parsed, but an error was expected");
}

describe("DDPM config files", () => {
  const committed = readdirSync(CONFIGS).filter((file) => file.endsWith(".json"));

  it("finds the committed configs", () => expect(committed).toEqual(expect.arrayContaining(["mnist.json", "textures.json", "mnist-full.json"])));

  it.each(committed)("loads the committed configs/%s", (file) => {
    const config = loadDdpmConfig(join(CONFIGS, file));
    expect(config.version).toBe(1);
    expect(config.description!.length).toBeGreaterThan(20);
    expect(scheduleConfigOf(config)).toEqual({ kind: "linear", T: 1000, betaStart: 0.0001, betaEnd: 0.02 });
    expect(attentionUnetConfigOf(config).imageSize).toBe(28);
  });

  it("gives configs/mnist-full.json the reference's sizes", () => {
    const config = loadDdpmConfig(join(CONFIGS, "mnist-full.json"));
    expect(config.model).toEqual({
      downChannels: [32, 64, 128, 256], midChannels: [256, 256, 128], downsample: [true, true, false], attention: [true, true, true], timeEmbeddingSize: 128,
      downLayers: 2, midLayers: 2, upLayers: 2, attentionHeads: 4, normGroups: 8, finalChannels: 16,
    });
    expect(config.training).toMatchObject({ batchSize: 64, epochs: 40, learningRate: 1e-4 });
  });

  it("writes a config that reads back equal (format -> file -> load)", () => {
    for (const value of [valid(), loadDdpmConfig(join(CONFIGS, "mnist.json"))]) {
      const config = parseDdpmConfig(value);
      const path = join(scratch, "round-trip.json");
      writeFileSync(path, formatDdpmConfig(config));
      expect(loadDdpmConfig(path)).toEqual(config);
    }
    const withoutOptional = valid();
    delete withoutOptional.description;
    expect(parseDdpmConfig(withoutOptional)).toEqual({ ...withoutOptional, model: { ...withoutOptional.model, attention: [true, true] } });
  });

  it("checks the version first", () => {
    const missing = valid();
    delete missing.version;
    expect(errorOf(missing).message).toBe('test.json: version: is missing: this library reads version 1 files; add "version": 1.');
    // A newer file fails on its version, not on a key it added.
    expect(errorOf({ ...valid(), version: 2, extra: true }).message).toMatch(/^test\.json: version: is 2, but this library reads version 1 only/);
    expect(errorOf({ ...valid(), version: "1" }).key).toBe("version");
    expect(errorOf([valid()]).message).toMatch(/must hold one JSON object/);
  });

  it("names an unknown key, at the top and inside a section", () => {
    expect(errorOf({ ...valid(), notes: "x" }).message).toMatch(/^test\.json: notes: is not a known key; the known keys are version, description, dataset, model, training\.$/);
    const misspelt = valid();
    misspelt.model.downChanels = misspelt.model.downChannels;
    delete misspelt.model.downChannels;
    const error = errorOf(misspelt);
    expect(error.key).toBe("model.downChanels");
    expect(error.message).toMatch(/is not a known key of model; the known keys are downChannels, midChannels/);
  });

  it("names a missing key and says what it is", () => {
    const config = valid();
    delete config.training.seed;
    expect(errorOf(config).message).toBe("test.json: training.seed: is missing: the seed of everything random in the run (an integer >= 0).");
    const noModel = valid();
    delete noModel.model;
    expect(errorOf(noModel).key).toBe("model");
  });

  it("names a key of the wrong type or range, with the value seen", () => {
    const cases: Array<[(c: Record<string, any>) => void, string, RegExp]> = [
      [(c) => (c.model.normGroups = "8"), "model.normGroups", /must be an integer >= 1, got "8" \(a string\)/],
      [(c) => (c.model.downChannels[1] = 32.5), "model.downChannels[1]", /must be an integer >= 1, got 32\.5/],
      [(c) => (c.model.downsample[0] = "yes"), "model.downsample[0]", /must be true or false/],
      [(c) => (c.model.attention = [1, true]), "model.attention[0]", /must be true or false, got 1/],
      [(c) => (c.model.midChannels = 64), "model.midChannels", /must be an array of at least 2/],
      [(c) => (c.dataset.name = "cifar"), "dataset.name", /must be one of "mnist", "textures", got "cifar"/],
      [(c) => (c.dataset = null), "dataset", /must be an object, got null/],
      [(c) => (c.training.learningRate = 0), "training.learningRate", /must be a number > 0, got 0/],
      [(c) => (c.training.betaEnd = 1.5), "training.betaEnd", /must be a number in \(0, 1\), got 1\.5/],
      [(c) => (c.training.out = ""), "training.out", /must be a non-empty string/],
      [(c) => (c.training.emaDecay = 1), "training.emaDecay", /must be a number in \(0, 1\), got 1/],
    ];
    for (const [mutate, key, message] of cases) {
      const config = valid();
      mutate(config);
      const error = errorOf(config);
      expect(error.key, key).toBe(key);
      expect(error.message, key).toMatch(message);
    }
  });

  it("rejects widths that GroupNorm's groups do not divide", () => {
    const config = valid();
    config.model.downChannels = [12, 32, 64];
    expect(errorOf(config).message).toBe(
      "test.json: model.downChannels[0]: 12 channels do not split into normGroups = 8 equal groups; use a multiple of 8 (or fewer groups).",
    );
    const final = valid();
    final.model.finalChannels = 20;
    expect(errorOf(final).key).toBe("model.finalChannels");
  });

  it("rejects attention heads that do not divide every width", () => {
    const config = valid();
    config.model.attentionHeads = 3;
    expect(errorOf(config).message).toBe(
      "test.json: model.downChannels[0]: 16 channels do not split into attentionHeads = 3 equal heads; use a multiple of 3 (or fewer heads).",
    );
  });

  it("rejects downsampling that does not divide the image size", () => {
    const config = valid();
    config.dataset.imageSize = 30;
    const error = errorOf(config);
    expect(error.key).toBe("dataset.imageSize");
    expect(error.message).toMatch(/30 is not divisible by 4, the total downsampling of downsample \[true,true\]/);
  });

  it("rejects an architecture whose parts do not meet", () => {
    const cases: Array<[(c: Record<string, any>) => void, string, RegExp]> = [
      [(c) => (c.model.downsample = [true]), "model.downsample", /needs one flag per down block: 2 for 3 downChannels, got 1/],
      [(c) => (c.model.attention = [false, true, true]), "model.attention", /needs one flag per down block: 2 for 3 downChannels, got 3/],
      [(c) => (c.model.midChannels = [32, 32]), "model.midChannels[0]", /must equal the last down width downChannels\[2\] = 64/],
      [(c) => (c.model.midChannels = [64, 64, 16]), "model.midChannels[2]", /must equal downChannels\[1\] = 32/],
      [(c) => (c.model.timeEmbeddingSize = 63), "model.timeEmbeddingSize", /must be even/],
      [(c) => ((c.dataset.name = "mnist"), (c.dataset.channels = 3)), "dataset.channels", /MNIST digits are grayscale: 1 channel, got 3/],
      [(c) => (c.training.betaStart = 0.03), "training.betaEnd", /0\.02 is below betaStart 0\.03/],
    ];
    for (const [mutate, key, message] of cases) {
      const config = valid();
      mutate(config);
      const error = errorOf(config);
      expect(error.key, key).toBe(key);
      expect(error.message, key).toMatch(message);
    }
  });

  it("names the file when it is missing or not JSON", () => {
    expect(() => loadDdpmConfig(join(scratch, "absent.json"))).toThrow(/absent\.json: cannot be read/);
    const broken = join(scratch, "broken.json");
    writeFileSync(broken, '{ "version": 1, ');
    expect(() => loadDdpmConfig(broken)).toThrow(/broken\.json: is not valid JSON/);
  });

  it("reads a file without model.attention as attention in every block, leaving the value read unchanged", () => {
    const value = valid();
    const config: DdpmConfig = parseDdpmConfig(value);
    expect(config.model.attention).toEqual([true, true]);
    expect(value.model.attention).toBeUndefined();
    const chosen = valid();
    chosen.model.attention = [false, true];
    expect(parseDdpmConfig(chosen).model.attention).toEqual([false, true]);
  });

  it("passes training.emaDecay to the trainer, and no EMA when the key is absent", () => {
    expect(ddpmTrainConfig(parseDdpmConfig(valid())).emaDecay).toBeNull();
    const withEma = valid();
    withEma.training.emaDecay = 0.999;
    expect(ddpmTrainConfig(parseDdpmConfig(withEma)).emaDecay).toBe(0.999);
  });
});
