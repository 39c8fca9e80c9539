/**
 * `npm run make-data` as a user runs it (through tsx): a small texture set with its manifest and
 * contact sheet, `--ensure` remaking a deleted file, and mistakes refused before any work.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, unlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readImageSetManifest } from "../../src/lib/data/imageSetFiles";

const ROOT = resolve(__dirname, "..", "..");
const dir = mkdtempSync(join(tmpdir(), "cli-make-data-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function makeData(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(join(ROOT, "node_modules", ".bin", "tsx"), [join(ROOT, "src", "cli", "make-data.ts"), ...args], {
    cwd: ROOT,
    encoding: "utf8",
    timeout: 60_000,
    env: { ...process.env, TF_NUM_INTRAOP_THREADS: "1", TF_NUM_INTEROP_THREADS: "1" },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe("npm run make-data", () => {
  it("makes a texture set with its manifest and contact sheet; --ensure remakes a deleted file", () => {
    const out = join(dir, "textures");
    const made = makeData(["--set", "textures", "--seed", "2", "--train", "18", "--test", "6", "--out", out]);
    expect(made.stderr).toBe("");
    expect(made.status).toBe(0);
    expect(made.stdout).toContain("train: 18 images, per class [3, 3, 3, 3, 3, 3]");
    const manifest = readImageSetManifest(out)!;
    expect([manifest.seed, manifest.parts.test.count]).toEqual([2, 6]);
    expect(existsSync(join(out, "contact.png"))).toBe(true);
    unlinkSync(join(out, manifest.parts.train.images.name));
    const ensured = makeData(["--ensure", "--set", "textures", "--out", out]);
    expect(ensured.stdout).toContain(`textures: made in ${out}`);
    expect(existsSync(join(out, manifest.parts.train.images.name))).toBe(true);
  }, 120_000);

  it("refuses a missing --set, sizes for MNIST and --ensure with sizes", () => {
    expect(makeData([]).stderr).toContain("make-data: --set is required");
    expect(makeData(["--set", "mnist", "--train", "5"]).stderr).toContain("make-data: --train applies only to --set textures");
    const both = makeData(["--ensure", "--set", "textures", "--seed", "1"]);
    expect(both.status).toBe(1);
    expect(both.stderr).toContain("make-data: --ensure ignores --seed");
  }, 120_000);
});
