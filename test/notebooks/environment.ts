/**
 * What the notebook and browser tests need, and how they react when it is missing: outside CI
 * they skip with a loud reason (run `bash scripts/setup.sh`); under CI=true a missing
 * prerequisite fails, so a broken set-up can never pass as "skipped".
 */
import { execFile } from "child_process";
import { existsSync, readdirSync } from "fs";
import * as path from "path";
import { describe, it } from "vitest";

export const ROOT = path.resolve(__dirname, "..", "..");
export const VENV_PYTHON = path.join(ROOT, ".venv", "bin", "python");
export const CHROMIUM = "/usr/bin/chromium";
export const IN_CI = /^(1|true|yes)$/i.test(process.env.CI ?? "");

/** Each prerequisite: a file that must exist, and how to get it. */
const PREREQUISITES = {
  venv: { file: VENV_PYTHON, fix: "the Python environment .venv: run `bash scripts/setup.sh`" },
  kernelspec: {
    file: path.join(ROOT, ".venv", "share", "jupyter", "kernels", "tslab", "kernel.json"),
    fix: "the tslab kernelspec in .venv: run `bash scripts/setup.sh`",
  },
  library: { file: path.join(ROOT, "dist", "lib", "index.js"), fix: "the built library dist/: run `npm run build`" },
  chromium: { file: CHROMIUM, fix: "Debian's chromium: run `apt-get install chromium` (as root)" },
  mathjax: {
    file: path.join(ROOT, "node_modules", "mathjax", "es5", "tex-svg-full.js"),
    fix: "the npm package mathjax (3.2.2), which report pages inline: add it to package.json, run `npm ci`",
  },
} as const;
export type Prerequisite = keyof typeof PREREQUISITES;

/** Reasons why prerequisites are missing (empty when all are there). */
export function missingPrerequisites(needs: readonly Prerequisite[]): string[] {
  return needs.filter((need) => !existsSync(PREREQUISITES[need].file)).map((need) => `missing ${PREREQUISITES[need].fix}`);
}

/**
 * `describe` that runs when the prerequisites exist; otherwise skips loudly (outside CI) or
 * registers one failing test naming what is missing (CI).
 */
export function describeWithPrerequisites(name: string, needs: readonly Prerequisite[], body: () => void): void {
  const missing = missingPrerequisites(needs);
  if (missing.length === 0) {
    describe(name, body);
  } else if (IN_CI) {
    describe(name, () => {
      it("has its prerequisites (CI never skips)", () => {
        throw new Error(`${name}: ${missing.join("; ")}`);
      });
    });
  } else {
    console.warn(`\n*** SKIPPED "${name}": ${missing.join("; ")} ***\n`);
    describe.skip(`${name} (SKIPPED: ${missing.join("; ")})`, body);
  }
}

/** Notebooks the tests execute: every lesson in notebooks/ and the fixtures. */
export function notebooksToExecute(): string[] {
  const inFolder = (folder: string) =>
    existsSync(folder)
      ? readdirSync(folder).filter((f) => f.endsWith(".ipynb")).sort().map((f) => path.join(folder, f))
      : [];
  return [...inFolder(path.join(ROOT, "notebooks")), ...inFolder(path.join(ROOT, "test", "fixtures", "notebooks"))];
}

/** The JSON summary scripts/execute-notebooks.py prints for one notebook. */
export interface NotebookResult {
  notebook: string;
  ok: boolean;
  errors: string[];
  images: number;
  plots: number;
  kernel_start_seconds: number;
  execute_seconds: number;
}

/**
 * Runs scripts/execute-notebooks.py in quick mode; resolves with its per-notebook results.
 * `echoLog` copies its progress lines (and a failing notebook's details) to the test output.
 */
export function executeNotebooks(
  notebooks: readonly string[],
  options: { extraArgs?: readonly string[]; echoLog?: boolean } = {},
): Promise<NotebookResult[]> {
  const args = [path.join(ROOT, "scripts", "execute-notebooks.py"), "--timeout", "900", ...(options.extraArgs ?? []), ...notebooks];
  const env = { ...process.env, SPRITE_DIFFUSION_QUICK: "1" };
  return new Promise((resolve, reject) => {
    execFile(VENV_PYTHON, args, { cwd: ROOT, env, maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
      if (options.echoLog ?? true) process.stderr.write(stderr);
      try {
        resolve((JSON.parse(stdout) as { notebooks: NotebookResult[] }).notebooks);
      } catch {
        reject(new Error(`execute-notebooks.py gave no JSON summary (${error?.message ?? "exit 0"}):\n${stderr}`));
      }
    });
  });
}
