/**
 * The commands with PyTorch-world files, as a user runs them (through tsx): `npm run export`
 * writes a shipped checkpoint and a .pth as safetensors, refuses a wrong --out in seconds, and
 * `npm run sample --checkpoint` takes a .pth and a .safetensors like a checkpoint folder.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readSafetensors } from "../../src/lib/interop/safetensors";
import { loadModel } from "../../src/lib/train/trainingCheckpoint";
import { useTestBackend } from "../helpers/backends";
import { runTorch, scratchFolder, torchUnavailable } from "./torchInterop";

const ROOT = resolve(__dirname, "..", "..");
const unavailable = torchUnavailable();
if (unavailable && process.env.CI) throw new Error(`PyTorch reference needed in CI: ${unavailable}`);

/** Runs `npm run <command> -- args` the way npm does (tsx), one TensorFlow thread. */
function run(command: string, args: string[]) {
  const started = Date.now();
  const result = spawnSync(join(ROOT, "node_modules", ".bin", "tsx"), [join(ROOT, "src", "cli", `${command}.ts`), ...args], {
    cwd: ROOT,
    encoding: "utf8",
    timeout: 90_000,
    env: { ...process.env, TF_NUM_INTRAOP_THREADS: "1", TF_NUM_INTEROP_THREADS: "1" },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr, seconds: (Date.now() - started) / 1000 };
}

describe("npm run export and --checkpoint FILE", () => {
  const scratch = scratchFolder();
  beforeAll(async () => {
    await useTestBackend();
  });
  afterAll(() => scratch.remove());

  it("refuses an --out that is not .safetensors before loading anything", () => {
    const result = run("export", ["--checkpoint", "models/context", "--out", scratch.path("model.pth")]);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`export: --out ${scratch.path("model.pth")}: the file name should end in .safetensors (got ".pth")`);
  });

  it("exports the shipped context model (its EMA weights, as auto loads them) with its schedule and step count, and it loads back to the same weights", async () => {
    const out = scratch.path("context.safetensors");
    const result = run("export", ["--checkpoint", "models/context", "--out", out]);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain(`wrote ${out}: ContextUnet(in_channels=3, n_feat=64, n_cfeat=5, height=16), 1481027 parameters, ema weights`); // the shipped model keeps an EMA: auto takes it
    const { tensors } = readSafetensors(out);
    const original = loadModel(join(ROOT, "models/context"));
    const back = loadModel(out);
    try {
      expect(tensors.get("down1.b1.conv1.1.num_batches_tracked")!.data[0]).toBe(original.manifest.training!.globalStep);
      expect(back.schedule.config).toEqual(original.schedule.config);
      const [a, b] = [await original.model.getWeights(), await back.model.getWeights()];
      for (const key of Object.keys(a)) expect(Array.from(b[key].data), key).toEqual(Array.from(a[key].data));
    } finally {
      original.model.dispose();
      back.model.dispose();
    }
  });

  it.skipIf(unavailable !== null)("samples from a course-layout .pth and from its export", () => {
    runTorch(["save-pth", "--out", scratch.path("course.pth"), "--io", scratch.path("course.json"), "--layout", "course", "--nf", "16"]);
    const exported = run("export", ["--checkpoint", scratch.path("course.pth"), "--out", scratch.path("course.safetensors")]);
    expect(exported.status).toBe(0);
    expect(exported.stderr).toContain("PyTorch state_dict from course.pth, the course's schedule (T = 500, linear); the course's key names");
    for (const file of ["course.pth", "course.safetensors"]) {
      const grid = scratch.path(`${file}.png`);
      const sampled = run("sample", ["--checkpoint", scratch.path(file), "--sampler", "ddim", "--steps", "5", "--n", "2", "--rows", "1", "--context", "0,1", "--out", grid]);
      expect(sampled.stderr, file).not.toContain("Error");
      expect(sampled.status, file).toBe(0);
      expect(existsSync(grid)).toBe(true);
    }
  });
});
