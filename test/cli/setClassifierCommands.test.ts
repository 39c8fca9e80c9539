/**
 * train-classifier --set and set-frechet as a user runs them (through tsx): an unknown set, an
 * option that needs --set, a classifier of other images and a checkpoint of the sprites fail in
 * seconds with a message that says what to do.
 */
import { spawnSync } from "node:child_process";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = resolve(__dirname, "..", "..");

/** Runs `npm run <command> -- args` the way npm does (tsx), one TensorFlow thread. */
function run(command: string, args: string[]): { status: number | null; stderr: string } {
  const result = spawnSync(join(ROOT, "node_modules", ".bin", "tsx"), [join(ROOT, "src", "cli", `${command}.ts`), ...args], {
    cwd: ROOT,
    encoding: "utf8",
    timeout: 60_000,
    env: { ...process.env, TF_NUM_INTRAOP_THREADS: "1", TF_NUM_INTEROP_THREADS: "1" },
  });
  return { status: result.status, stderr: result.stderr };
}

describe("the 28x28 sets' classifier commands fail before any work", () => {
  it("train-classifier names the sets for an unknown one and wants --set for --subset", () => {
    const unknown = run("train-classifier", ["--set", "cifar"]);
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toContain('train-classifier: No image set "cifar": the 28x28 sets are mnist, textures');
    const subset = run("train-classifier", ["--subset", "100"]);
    expect(subset.status).toBe(1);
    expect(subset.stderr).toContain("train-classifier: --subset needs --set");
  }, 120_000);

  it("set-frechet refuses the sprites' classifier for a 28x28 set", () => {
    const wrong = run("set-frechet", ["--set", "mnist", "--classifier", "models/classifier"]);
    expect(wrong.status).toBe(1);
    expect(wrong.stderr).toContain("set-frechet: models/classifier holds the classifier of the sprites, not of mnist");
    const both = run("set-frechet", ["--set", "mnist", "--checkpoint", "models/context"]);
    expect(both.status).toBe(1);
    expect(both.stderr).toContain("set-frechet: --checkpoint ignores --set");
    const sprites = run("set-frechet", ["--checkpoint", "models/context", "--n", "4"]);
    expect(sprites.status).toBe(1);
    expect(sprites.stderr).toContain("set-frechet: models/context records no DDPM config, so no 28x28 set");
  }, 120_000);
});
