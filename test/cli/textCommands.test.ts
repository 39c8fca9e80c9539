/**
 * `npm run train -- --text` and `npm run sample -- --prompt` as a user runs them (through tsx): a
 * 24-sprite captioned set (6 bases, written as `npm run sprites` writes one) trains the text model
 * for a step, stops, resumes to its second epoch with a sample grid of prompts, and the checkpoint
 * draws prompts with every sampler and with guidance; unknown words fail or are left out on
 * request; the flags that do not fit the run or the checkpoint fail with what to use instead.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCommand } from "../helpers/runCommand";
import { SPRITE_CAPTIONS_FILE, loadSpriteCaptions } from "../../src/lib/data/spriteCaptions";
import { SPRITE_IMAGES_FILE, SPRITE_LABELS_FILE, writeSpriteSet } from "../../src/lib/data/spriteFiles";
import { generateSpriteSet } from "../../src/lib/data/sprites/generate";
import type { CheckpointManifest } from "../../src/lib/train/checkpoint";
import { parseSampleArgs, promptsFor } from "../../src/cli/sample";
import { parseTrainArgs } from "../../src/cli/train";
import { parseEvaluateTextArgs } from "../../src/cli/evaluate-text";
import { parseEvaluateInversionArgs } from "../../src/cli/evaluate-inversion";

const ROOT = resolve(__dirname, "..", "..");
const dir = mkdtempSync(join(tmpdir(), "cli-text-"));
const SET = join(dir, "set");
const RUN = join(dir, "text");
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeAll(() => {
  // 6 bases of 4 variants, classes 4, 1, 0, 3, 1, 3; its words include "a", "pink", "pig", "blue", "wizard".
  writeSpriteSet(SET, generateSpriteSet({ seed: 1, count: 24, variantsPerBase: 4 }));
});

const run = (command: string, args: string[]) => runCommand(command, args);

/** PNG width and height from its IHDR chunk. */
const pngSize = (file: string) => {
  const bytes = readFileSync(file);
  return [bytes.readUInt32BE(16), bytes.readUInt32BE(20)];
};

const manifestOf = (folder: string) => JSON.parse(readFileSync(join(folder, "manifest.json"), "utf8")) as CheckpointManifest;
/** The trainer's grid prompts for this set: per class present, the first caption of its first base. */
const gridPrompts = () => {
  const { bases } = loadSpriteCaptions(SET);
  return [0, 1, 2, 3, 4].flatMap((c) => bases.filter((base) => base.classIndex === c).slice(0, 1).map((base) => base.captions[0]));
};

describe("npm run train -- --text", () => {
  it("trains the text model on the captioned set, stops cleanly, and resumes to the end with a grid of prompts", async () => {
    // Six bases hold no kind-and-colour pair twice: nothing to hold out (heldOutPrompts.test.ts covers holding out).
    const common = ["--text", "--sprites", SET, "--hold-out", "0", "--out", RUN, "--epochs", "2", "--batch", "24", "--sample-every", "2"];
    // One step of 24 sprites takes far longer than 0.12 s: the run stops after the first.
    const stopped = await run("train", [...common, "--max-minutes", "0.002"]);
    expect(stopped.stderr).toContain("text model: 32 words, 16 tokens a caption, embeddings 64 -> MLP 128 -> context 32, caption dropout 0.1");
    expect(stopped.stderr).toContain("training on 24 captioned sprites, 1 steps per epoch");
    expect(stopped.stderr).toContain("stopped at epoch 1, step 1; resume with --resume");
    expect(stopped.status).toBe(0);
    const first = manifestOf(RUN);
    expect(first.architecture).toMatchObject({ name: "TextContextUnet", config: { vocabulary: [...loadSpriteCaptions(SET).vocabulary], encoder: { maxTokens: 16, vocabularySize: 34 } } });
    expect(first.training).toMatchObject({ globalStep: 1, config: { useContext: true, contextDropout: 0.1, batchSize: 24, epochs: 2 } });
    expect(first.data!.source).toContain(SPRITE_CAPTIONS_FILE);
    expect(first.data!.heldOut).toBeUndefined();

    const again = await run("train", common);
    expect(again.status).toBe(1);
    expect(again.stderr).toContain("already holds a checkpoint: pass --resume to continue it");

    const resumed = await run("train", [...common, "--resume"]);
    expect(resumed.stderr).toContain(`resumed from ${RUN} at epoch 1, step 1`);
    expect(resumed.status).toBe(0);
    expect(manifestOf(RUN).training).toMatchObject({ epoch: 2, globalStep: 2 });
    const prompts = gridPrompts();
    expect(prompts.length).toBe(4);
    expect(readFileSync(join(RUN, "samples", "epoch-01.txt"), "utf8")).toBe(prompts.map((p, r) => `row ${r + 1}: ${p}\n`).join(""));
    // A row of 8 per prompt: 8 cells of 64 px and 7 gutters across, 4 rows down.
    expect(pngSize(join(RUN, "samples", "epoch-01.png"))).toEqual([8 * 64 + 7 * 2, 4 * 64 + 3 * 2]);
    expect(readFileSync(join(RUN, "training-log.md"), "utf8")).toContain("- model: TextContextUnet, captions as context (dropout 0.1)");
  }, 240_000);

  it("refuses what does not fit --text, and says how to get the captions when they are missing", async () => {
    const out = join(dir, "x");
    expect(() => parseTrainArgs(["--text", "--context", "--out", out])).toThrow("--text trains on captions as the context and --context on class labels: choose one");
    expect(() => parseTrainArgs(["--text", "--images", join(SET, SPRITE_IMAGES_FILE), "--out", out])).toThrow(
      "--text trains on a captioned sprite set, images and captions together: drop --images and give the set's folder with --sprites DIR",
    );
    expect(() => parseTrainArgs(["--sprites", SET, "--out", out])).toThrow("--sprites needs --text");
    expect(() => parseTrainArgs(["--hold-out", "3", "--out", out])).toThrow("--hold-out needs --text");
    expect(parseTrainArgs(["--text", "--sprites", SET, "--resume"])!.holdOut).toBe(24);
    // The default --hold-out 24 asks this 6-base set for more pairs than it has.
    const tooMany = await run("train", ["--text", "--sprites", SET, "--out", out]);
    expect(tooMany.stderr).toContain("--hold-out 24: heldOutPairs: only 0 kind-and-colour pairs can be held out with at least 2 bases each (asked for 24). Give a smaller --hold-out, or --hold-out 0 to train on every image.");
    expect(tooMany.status).toBe(1);
    // --out defaults to models/text (--resume: whether a run is there already does not matter here).
    expect(parseTrainArgs(["--text", "--sprites", SET, "--resume"])).toMatchObject({ text: true, sprites: SET, out: join(ROOT, "models", "text"), context: false });
    // A set without its captions file, as the command sees it.
    const bare = join(dir, "bare");
    writeSpriteSet(bare, generateSpriteSet({ seed: 2, count: 8, variantsPerBase: 4 }));
    rmSync(join(bare, SPRITE_CAPTIONS_FILE));
    const missing = await run("train", ["--text", "--sprites", bare, "--out", out]);
    expect(missing.stderr).toContain(`train: --text trains on the sprites' captions: ${join(bare, SPRITE_CAPTIONS_FILE)}: no sprite captions; \`npm run sprites -- --ensure --out ${bare}\` makes them`);
    expect(missing.status).toBe(1);
    expect(existsSync(out)).toBe(false);
  }, 120_000);
});

describe("npm run sample -- --prompt", () => {
  const sample = (args: string[]) => run("sample", ["--checkpoint", RUN, "--steps", "5", ...args]);

  it("draws a row per prompt, with guidance and every sampler", async () => {
    if (!existsSync(join(RUN, "manifest.json"))) throw new Error("the training test above makes the checkpoint");
    const grid = join(dir, "prompts.png");
    const guided = await sample(["--prompt", "a pink pig", "--prompt", "a blue wizard", "--guidance", "2", "--out", grid]);
    expect(guided.stderr).toContain('rows: 1 "a pink pig", 2 "a blue wizard"');
    expect(guided.stderr).toContain("DDIM-5, CFG w = 2 on ONNX Runtime: 16 sprites in");
    expect(guided.status).toBe(0);
    expect(pngSize(grid)).toEqual([8 * 64 + 7 * 2, 2 * 64 + 2]);
    const ddpm = await sample(["--sampler", "ddpm", "--prompt", "a pink pig", "--n", "3", "--out", join(dir, "ddpm.png"), "--gif", join(dir, "ddpm.gif")]);
    expect(ddpm.stderr).toContain("DDPM-5 on ONNX Runtime: 3 sprites in");
    expect(ddpm.status).toBe(0);
    // DDPM without its noise always walks all T = 500 steps: one sprite.
    const plain = await run("sample", ["--checkpoint", RUN, "--sampler", "ddpm-no-noise", "--prompt", "pig", "--n", "1", "--out", join(dir, "plain.png")]);
    expect(plain.stderr).toContain("DDPM-500 without noise on ONNX Runtime: 1 sprites in");
    expect(plain.status).toBe(0);
    // No prompt: the empty caption.
    const empty = await sample(["--n", "2", "--out", join(dir, "empty.png")]);
    expect(empty.stderr).toContain("no --prompt: drawing from the empty caption (unconditional)");
    expect(empty.status).toBe(0);
  }, 240_000);

  it("fails on an unknown word with the words it knows, and leaves it out with --allow-unknown", async () => {
    const unknown = await sample(["--prompt", "a pink dragon", "--out", join(dir, "u.png")]);
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toContain('sample: --prompt: WordTokenizer: unknown word "dragon": the model knows only its captions\' 32 words (a, an, and,');
    expect(unknown.stderr).toContain("--allow-unknown leaves unknown words out, with a warning");
    const allowed = await sample(["--prompt", "a pink dragon", "--prompt", "wyvern", "--allow-unknown", "--n", "2", "--out", join(dir, "u.png")]);
    expect(allowed.stderr).toContain('warning: --allow-unknown leaves "dragon" out of "a pink dragon": the model reads "a pink"');
    expect(allowed.stderr).toContain('warning: --allow-unknown leaves "wyvern" out of "wyvern": nothing is left, so it draws from the empty caption');
    expect(allowed.status).toBe(0);
  }, 120_000);

  it("draws a text checkpoint's prompts on ONNX Runtime with --onnx, with guidance", async () => {
    const onnx = await sample(["--prompt", "a pink pig", "--prompt", "pig", "--guidance", "2", "--n", "4", "--onnx", "--out", join(dir, "o.png")]);
    expect(onnx.stderr).toContain("engine: ONNX Runtime (its graph built from the same weights; asked for)");
    expect(onnx.stderr).toContain("on ONNX Runtime: 4 sprites in");
    expect(onnx.status).toBe(0);
    expect(existsSync(join(dir, "o.png"))).toBe(true);
  }, 120_000);

  it("refuses --context for a text checkpoint and --prompt for a class one, saying what to use instead", async () => {
    const context = await sample(["--context", "each", "--out", join(dir, "c.png")]);
    expect(context.stderr).toContain(`holds a text-conditioned model (TextContextUnet), which takes captions, not classes: drop --context each and give what to draw with --prompt`);
    const classes = join(dir, "classes");
    const trained = await run("train", ["--images", join(SET, SPRITE_IMAGES_FILE), "--labels", join(SET, SPRITE_LABELS_FILE), "--context", "--epochs", "1", "--batch", "24", "--out", classes]);
    expect(trained.status).toBe(0);
    const prompt = await run("sample", ["--checkpoint", classes, "--prompt", "a pink pig", "--steps", "5", "--out", join(dir, "p.png")]);
    expect(prompt.stderr).toContain("holds a class-conditioned ContextUnet (5 classes), which takes no captions: drop --prompt and give classes with --context");
    expect(context.status).toBe(1);
    expect(prompt.status).toBe(1);
  }, 180_000);

  it("checks the flags that do not go together before loading anything", () => {
    const parse = (args: string[]) => () => parseSampleArgs(["--checkpoint", RUN, "--out", join(dir, "f.png"), ...args]);
    expect(parse(["--prompt", "a pig", "--context", "each"])).toThrow("--prompt gives a text-conditioned model its captions and --context a class model its classes: choose one");
    expect(parse(["--prompt", "a pig", "--classifier-guidance", "2"])).toThrow("a text model's --prompt is guided with --guidance W instead");
    expect(parse(["--allow-unknown"])).toThrow("--allow-unknown needs --prompt");
    expect(parse(["--guidance", "1"])).toThrow("--guidance needs --context or --prompt");
    expect(parse(["--prompt", "a pig", "--prompt", "pig", "--n", "1"])).toThrow("--n 1 draws fewer sprites than the 2 prompts");
    // 8 sprites a prompt and a row each, unless told otherwise.
    expect(parse(["--prompt", "a pig", "--prompt", "pig"])()).toMatchObject({ prompts: ["a pig", "pig"], n: 16, rows: 2, allowUnknown: false });
    expect(parse(["--prompt", "a pig", "--n", "5", "--rows", "1"])()).toMatchObject({ n: 5, rows: 1 });
    expect(promptsFor(["a", "b", "c"], 7)).toEqual(["a", "a", "a", "b", "b", "c", "c"]);
  });
});

describe("npm run evaluate-text and evaluate-inversion", () => {
  it("refuse a text checkpoint without held-out pairs or without a learnt word, and a class checkpoint, saying what to give", async () => {
    const text = await run("evaluate-text", ["--checkpoint", RUN, "--per-prompt", "2"]);
    expect(text.stderr).toContain(`${RUN} holds no held-out pairs (data.heldOut)`);
    expect(text.stderr).toContain("npm run train -- --text --hold-out 24");
    expect(text.status).toBe(1);
    const classes = await run("evaluate-text", ["--checkpoint", join(ROOT, "models", "context")]);
    expect(classes.stderr).toContain("holds a ContextUnet, not a text-conditioned model");
    expect(classes.status).toBe(1);
    const inversion = await run("evaluate-inversion", ["--checkpoint", RUN]);
    expect(inversion.stderr).toContain(`${RUN} has no inversion-log.json: give the --out folder of \`npm run invert\``);
    expect(inversion.status).toBe(1);
  }, 120_000);

  it("check their numbers and the record's path before loading anything", () => {
    expect(() => parseEvaluateTextArgs(["--checkpoint", RUN, "--per-prompt", "0"])).toThrow("--per-prompt");
    expect(() => parseEvaluateTextArgs(["--checkpoint", RUN, "--record", join(dir, "r.txt")])).toThrow(".json");
    expect(() => parseEvaluateTextArgs(["--per-prompt", "3"])).toThrow("--checkpoint is required");
    expect(parseEvaluateTextArgs(["--checkpoint", RUN])).toMatchObject({ perPrompt: 50, sampler: "ddim", guidance: 0, seed: 0 });
    expect(() => parseEvaluateInversionArgs(["--checkpoint", RUN, "--kind", "dragon"])).toThrow('--kind must be one of robot, got "dragon"');
    expect(() => parseEvaluateInversionArgs(["--checkpoint", RUN, "--guidance", "-1"])).toThrow("--guidance");
    expect(parseEvaluateInversionArgs(["--checkpoint", RUN, "--prompt", "a <robot>"])).toMatchObject({ prompts: ["a <robot>"], n: 100, references: 200, kind: "robot" });
  });
});
