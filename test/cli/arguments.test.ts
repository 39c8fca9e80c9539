/** The commands' checks before work: output paths, options that need a partner, numbers. */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { checkOutputFile, checkOutputFolder, numberOption, rejectTogether, requirePartner } from "../../src/cli/arguments";
import { parseEvaluateArgs } from "../../src/cli/evaluate";
import { parseSampleArgs } from "../../src/cli/sample";
import { parseTrainArgs } from "../../src/cli/train";

const dir = mkdtempSync(join(tmpdir(), "cli-arguments-"));
const aFile = join(dir, "a-file");
writeFileSync(aFile, "not a folder");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("output paths", () => {
  it("accept a file in a folder that exists or can be made, and make nothing", () => {
    expect(() => checkOutputFile(join(dir, "grid.png"), "--out", [".png"])).not.toThrow();
    expect(() => checkOutputFile(join(dir, "missing", "deeper", "grid.PNG"), "--out", [".png"])).not.toThrow();
    expect(() => checkOutputFolder(join(dir, "new", "run"), "--out")).not.toThrow();
    expect(existsSync(join(dir, "missing"))).toBe(false);
    expect(existsSync(join(dir, "new"))).toBe(false);
  });

  it("refuse a wrong extension, a folder for a file, and a path under a file", () => {
    expect(() => checkOutputFile(join(dir, "grid.jpg"), "--out", [".png"])).toThrow(`--out ${join(dir, "grid.jpg")}: the file name should end in .png (got ".jpg").`);
    expect(() => checkOutputFile(dir, "--gif", [".gif"])).toThrow(/should end in \.gif \(got "no extension"\)/);
    const folder = join(dir, "folder.png");
    mkdirSync(folder);
    expect(() => checkOutputFile(folder, "--out", [".png"])).toThrow(/cannot be written: it is a folder; give a file name inside it/);
    expect(() => checkOutputFile(join(aFile, "x.png"), "--out", [".png"])).toThrow(`cannot be written: ${aFile} is a file, not a folder`);
    expect(() => checkOutputFolder(aFile, "--out")).toThrow(`--out ${aFile}: ${aFile} is a file, not a folder; choose another folder.`);
    expect(() => checkOutputFolder(join(aFile, "run"), "--out")).toThrow(`${aFile} is a file, so the folder ${join(aFile, "run")} cannot be made`);
  });
});

describe("option checks", () => {
  it("an option given alone that needs its partner is an error; false and undefined are not given", () => {
    expect(() => requirePartner({ labels: "l.npy" }, "labels", "images", "give both")).toThrow("--labels needs --images: give both.");
    expect(() => requirePartner({ labels: "l.npy", images: "i.npy" }, "labels", "images", "give both")).not.toThrow();
    expect(() => requirePartner({ vector: false }, "vector", "context", "x")).not.toThrow();
    expect(() => rejectTogether({ ensure: true, seed: "1", count: "5" }, "ensure", ["seed", "count", "variants"])).toThrow("--ensure ignores --seed, --count: drop them or --ensure.");
    expect(() => rejectTogether({ ensure: true, "no-sheets": false }, "ensure", ["no-sheets"])).not.toThrow();
  });

  it("numbers: whole, at least a minimum, or undefined when absent", () => {
    expect(numberOption("25", "steps", { integer: true, min: 1 })).toBe(25);
    expect(numberOption(undefined, "steps")).toBeUndefined();
    expect(() => numberOption("2.5", "steps", { integer: true, min: 1 })).toThrow('--steps must be a whole number >= 1, got "2.5".');
    expect(() => numberOption("", "eta", { min: 0 })).toThrow('--eta must be a number >= 0, got "".');
    expect(() => numberOption("abc", "lr")).toThrow('--lr must be a number, got "abc".');
  });
});

describe("npm run train's options", () => {
  const out = join(dir, "run");
  it("--labels without --images, and --images with --context but no --labels, are errors that say what to add", () => {
    expect(() => parseTrainArgs(["--out", out, "--labels", "l.npy"])).toThrow(/--labels needs --images/);
    expect(() => parseTrainArgs(["--out", out, "--images", "mine.npy", "--context"])).toThrow(/--images mine\.npy comes without them: add --labels FILE/);
  });

  it("--images alone trains an unconditional model on them; both together a context-capable one", () => {
    expect(parseTrainArgs(["--out", out, "--images", "mine.npy"])).toMatchObject({ images: "mine.npy", labels: undefined, context: false });
    expect(parseTrainArgs(["--out", out, "--images", "i.npy", "--labels", "l.npy", "--context"])).toMatchObject({ images: "i.npy", labels: "l.npy", context: true });
  });

  it("checks the output folder, an existing checkpoint and the numbers before any work", () => {
    expect(() => parseTrainArgs(["--out", aFile])).toThrow(/is a file, not a folder/);
    const used = join(dir, "used");
    mkdirSync(used);
    writeFileSync(join(used, "manifest.json"), "{}");
    expect(() => parseTrainArgs(["--out", used])).toThrow(/already holds a checkpoint: pass --resume/);
    expect(parseTrainArgs(["--out", used, "--resume"])).toMatchObject({ resume: true });
    expect(() => parseTrainArgs(["--out", out, "--epochs", "0"])).toThrow('--epochs must be a whole number >= 1, got "0".');
    expect(() => parseTrainArgs(["--out", out, "--snapshots", "0,x"])).toThrow(/--snapshots must be a whole number/);
    expect(parseTrainArgs(["--help"])).toBeNull();
  });

  it("--config reads the whole run from the file (its out folder by default) and refuses options the file decides", () => {
    const parsed = parseTrainArgs(["--config", "configs/mnist.json", "--out", out]);
    expect(parsed).toMatchObject({ out, configFile: "configs/mnist.json", ddpmConfig: { dataset: { name: "mnist", imageSize: 28, channels: 1 }, training: { T: 1000 } } });
    expect(parseTrainArgs(["--config", "configs/mnist.json", "--resume"])?.out).toMatch(/models[/\\]mnist$/);
    expect(() => parseTrainArgs(["--config", "configs/mnist.json", "--out", out, "--lr", "0.01"])).toThrow(
      "--config configs/mnist.json sets the whole run (data, model, schedule, recipe; unconditional), so --lr cannot come with it: drop it, or change the config file.",
    );
    const bad = join(dir, "bad.json");
    writeFileSync(bad, JSON.stringify({ version: 1, dataset: {}, model: {}, training: {} }));
    expect(() => parseTrainArgs(["--config", bad, "--out", out])).toThrow(`${bad}: dataset.name: is missing`);
  });
});

describe("npm run sample and npm run evaluate's options", () => {
  it("sample checks --out, --gif, --vector's partner and the sampler's name", () => {
    const base = ["--checkpoint", "models/context"];
    expect(parseSampleArgs([...base, "--out", join(dir, "new", "grid.png")])).toMatchObject({ choice: { sampler: "ddim" }, n: 32, rows: 4, context: "none" });
    expect(() => parseSampleArgs([...base, "--out", join(aFile, "grid.png")])).toThrow(/is a file, not a folder/);
    expect(() => parseSampleArgs([...base, "--out", join(dir, "grid.png"), "--gif", join(dir, "anim.png")])).toThrow(/--gif .*should end in \.gif/);
    expect(() => parseSampleArgs([...base, "--out", join(dir, "grid.png"), "--vector"])).toThrow(/--vector needs --context/);
    expect(() => parseSampleArgs([...base, "--out", join(dir, "grid.png"), "--sampler", "DDPM"])).toThrow(/Unknown sampler "DDPM": use one of ddpm, ddim, ddpm-no-noise/);
    expect(() => parseSampleArgs(["--out", join(dir, "grid.png")])).toThrow(/--checkpoint and --out are required/);
  });

  it("sample and evaluate take --engine (default auto; --onnx is --engine onnx), but not ONNX Runtime with --classifier-guidance", () => {
    const base = ["--checkpoint", "models/context", "--out", join(dir, "grid.png")];
    expect(parseSampleArgs(base)).toMatchObject({ engine: "auto" });
    expect(parseSampleArgs([...base, "--engine", "tfjs"])).toMatchObject({ engine: "tfjs" });
    expect(parseSampleArgs([...base, "--onnx", "--context", "each", "--guidance", "2"])).toMatchObject({ engine: "onnx", guidance: 2 });
    expect(parseSampleArgs([...base, "--context", "each", "--classifier-guidance", "2"])).toMatchObject({ engine: "auto", classifierGuidance: 2 });
    const refusal = "--classifier-guidance runs on TensorFlow.js (the noisy classifier's gradient at every step), so it cannot come with --engine onnx: drop one of them (--guidance W works on ONNX Runtime).";
    expect(() => parseSampleArgs([...base, "--onnx", "--context", "each", "--classifier-guidance", "2"])).toThrow(refusal);
    expect(() => parseSampleArgs([...base, "--engine", "cuda"])).toThrow('--engine must be one of auto, onnx, tfjs, got "cuda".');
    expect(() => parseSampleArgs([...base, "--onnx", "--engine", "tfjs"])).toThrow("--onnx asks for ONNX Runtime and --engine tfjs for TensorFlow.js: drop one of them.");
    expect(parseEvaluateArgs(["--checkpoint", "models/context", "--onnx"])).toMatchObject({ engine: "onnx" });
    expect(parseEvaluateArgs(["--checkpoint", "models/context"])).toMatchObject({ engine: "auto" });
    expect(() => parseEvaluateArgs(["--checkpoint", "models/context", "--engine", "onnx", "--classifier-guidance", "2"])).toThrow(refusal);
  });

  it("evaluate checks --record's path and the sampler before sampling", () => {
    expect(() => parseEvaluateArgs(["--checkpoint", "models/context", "--record", join(dir, "evaluation.txt")])).toThrow(/--record .*should end in \.json/);
    expect(() => parseEvaluateArgs(["--checkpoint", "models/context", "--sampler", "plms"])).toThrow(/Unknown sampler "plms"/);
    expect(parseEvaluateArgs(["--checkpoint", "models/context", "--sampler", "ddpm"])).toMatchObject({ sampler: "ddpm", steps: undefined, eta: undefined, clipDenoised: undefined, n: 1000 });
  });

  it("--clip-denoised is on or off, else the schedule's default applies (undefined)", () => {
    const base = ["--checkpoint", "models/improved-ddpm"];
    expect(parseEvaluateArgs([...base, "--clip-denoised", "off"])).toMatchObject({ clipDenoised: false });
    expect(parseSampleArgs([...base, "--out", join(dir, "grid.png"), "--clip-denoised", "on"])?.choice).toMatchObject({ clipDenoised: true });
    expect(() => parseEvaluateArgs([...base, "--clip-denoised", "yes"])).toThrow(/--clip-denoised must be one of on, off, got "yes"/);
  });

  it("sample checks the guidance flags: w and s >= 0, the class list they steer to, the guidance classifier's partner", () => {
    const base = ["--checkpoint", "models/context", "--out", join(dir, "grid.png")];
    expect(parseSampleArgs(base)).toMatchObject({ guidance: 0, classifierGuidance: 0, guidanceClassifier: "models/noisy-classifier" });
    expect(parseSampleArgs([...base, "--context", "each", "--guidance", "2", "--classifier-guidance", "3", "--guidance-classifier", "models/mine"])).toMatchObject({
      guidance: 2,
      classifierGuidance: 3,
      guidanceClassifier: "models/mine",
    });
    expect(() => parseSampleArgs([...base, "--context", "each", "--guidance=-1"])).toThrow('--guidance must be a number >= 0, got "-1".');
    expect(() => parseSampleArgs([...base, "--context", "each", "--guidance", "-1"])).toThrow(/argument is ambiguous/); // node's parseArgs
    expect(() => parseSampleArgs([...base, "--context", "each", "--classifier-guidance", "x"])).toThrow('--classifier-guidance must be a number >= 0, got "x".');
    expect(() => parseSampleArgs([...base, "--guidance", "2"])).toThrow("--guidance needs --context or --prompt: classifier-free guidance steers toward a context, e.g. --context each (a class model)");
    expect(() => parseSampleArgs([...base, "--classifier-guidance", "2"])).toThrow(/--classifier-guidance needs --context: it steers each sprite to its --context class/);
    expect(() => parseSampleArgs([...base, "--classifier-guidance", "2", "--context", "1,0,0,0,0", "--vector"])).toThrow(/give --context as classes \(e\.g\. each, 0,1 or hero,food\), not a --vector/);
    expect(() => parseSampleArgs([...base, "--classifier-guidance", "2", "--context", "none"])).toThrow(/give --context as classes .*not "none"/);
    expect(() => parseSampleArgs([...base, "--guidance-classifier", "models/mine"])).toThrow("--guidance-classifier needs --classifier-guidance: it names the classifier --classifier-guidance S uses.");
  });

  it("evaluate takes the same guidance flags, its measuring --classifier apart from --guidance-classifier", () => {
    const base = ["--checkpoint", "models/unconditional"];
    expect(parseEvaluateArgs([...base, "--classifier-guidance", "3"])).toMatchObject({ guidance: 0, classifierGuidance: 3, classifier: "models/classifier", guidanceClassifier: "models/noisy-classifier" });
    expect(parseEvaluateArgs([...base, "--guidance", "1.5", "--guidance-classifier", "g", "--classifier-guidance", "1"])).toMatchObject({ guidance: 1.5, guidanceClassifier: "g" });
    expect(() => parseEvaluateArgs([...base, "--guidance=-0.5"])).toThrow('--guidance must be a number >= 0, got "-0.5".');
    expect(() => parseEvaluateArgs([...base, "--guidance-classifier", "g"])).toThrow(/--guidance-classifier needs --classifier-guidance/);
  });
});
