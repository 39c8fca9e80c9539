/**
 * The commands as a user runs them (through tsx): a mistake in the options fails in seconds, before
 * any sampling or training, and --images without --labels trains an unconditional model.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { writeNpy } from "../../src/lib/data/npy";
import { spriteSetArrays } from "../../src/lib/data/spriteFiles";
import { generateSpriteSet } from "../../src/lib/data/sprites/generate";
import type { CheckpointManifest } from "../../src/lib/train/checkpoint";

const ROOT = resolve(__dirname, "..", "..");
const dir = mkdtempSync(join(tmpdir(), "cli-commands-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `npm run <command> -- args` the way npm does (tsx), one TensorFlow thread. */
function run(command: string, args: string[]): { status: number | null; stderr: string; seconds: number } {
  const started = Date.now();
  const result = spawnSync(join(ROOT, "node_modules", ".bin", "tsx"), [join(ROOT, "src", "cli", `${command}.ts`), ...args], {
    cwd: ROOT,
    encoding: "utf8",
    timeout: 60_000,
    env: { ...process.env, TF_NUM_INTRAOP_THREADS: "1", TF_NUM_INTEROP_THREADS: "1" },
  });
  return { status: result.status, stderr: result.stderr, seconds: (Date.now() - started) / 1000 };
}

describe("commands fail before any work", () => {
  it("sample with an --out it could not write, and train with --labels alone, exit 1 in seconds", () => {
    const aFile = join(dir, "a-file");
    writeFileSync(aFile, "");
    const sample = run("sample", ["--checkpoint", "models/context", "--sampler", "ddpm", "--out", join(aFile, "grid.png")]);
    expect(sample.status).toBe(1);
    expect(sample.stderr).toContain(`sample: --out ${join(aFile, "grid.png")}: cannot be written: ${aFile} is a file, not a folder`);
    const train = run("train", ["--out", join(dir, "run"), "--labels", "labels.npy"]);
    expect(train.status).toBe(1);
    expect(train.stderr).toContain("train: --labels needs --images");
    // tsx's start-up is most of it; sampling DDPM-500 or training would take minutes.
    expect(sample.seconds + train.seconds).toBeLessThan(30);
  }, 120_000);
});

describe("npm run train -- --images F (no --labels)", () => {
  it("trains an unconditional model on those images and records them as its data", () => {
    const images = join(dir, "mine.npy");
    writeNpy(images, spriteSetArrays(generateSpriteSet({ seed: 1, count: 20, variantsPerBase: 5 })).images);
    const out = join(dir, "unconditional");
    const result = run("train", ["--images", images, "--out", out, "--epochs", "1", "--batch", "10"]);
    expect(result.stderr).toContain("training on 20 sprites, 2 steps per epoch");
    expect(result.status).toBe(0);
    const manifest = JSON.parse(readFileSync(join(out, "manifest.json"), "utf8")) as CheckpointManifest;
    expect(manifest.training?.config.useContext).toBe(false);
    expect(manifest.data).toMatchObject({ count: 20 });
    expect(resolve(ROOT, manifest.data!.source)).toBe(images);
  }, 120_000);
});
