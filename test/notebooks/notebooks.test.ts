/**
 * Every lesson (notebooks/*.ipynb) and fixture notebook runs top to bottom through the real tslab
 * kernel (nbclient from .venv, scripts/execute-notebooks.py) in quick mode, without an error or
 * stderr output, and shows the number of images (and plots) its metadata declares. Every lesson
 * also runs with each code cell run twice in a row and still ends on its closing tensor check
 * (which throws unless the count is back at the set-up's baseline). The checker itself is shown
 * to fail on the failures it exists to catch.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "fs";
import * as path from "path";
import { afterAll, expect, it } from "vitest";
import { ROOT, describeWithPrerequisites, executeNotebooks, notebooksToExecute } from "./environment";

const MINUTES = 60_000;

describeWithPrerequisites("notebooks through the tslab kernel", ["venv", "kernelspec", "library"], () => {
  for (const notebook of notebooksToExecute()) {
    it(`${path.relative(ROOT, notebook)} runs top to bottom (quick mode) and shows its images`, async () => {
      const [result] = await executeNotebooks([notebook], {
        extraArgs: ["--out", path.join(ROOT, ".tmp", "executed-notebooks")],
      });
      console.log(`${result.notebook}: kernel start ${result.kernel_start_seconds} s, cells ${result.execute_seconds} s`);
      expect(result.errors).toEqual([]);
      expect(result.ok).toBe(true);
    }, 20 * MINUTES);
  }

  for (const notebook of notebooksToExecute().filter((n) => n.includes(`${path.sep}notebooks${path.sep}`) && !n.includes("fixtures"))) {
    it(`${path.relative(ROOT, notebook)} runs with every code cell run twice and ends at its baseline tensor count`, async () => {
      const cells = JSON.parse(readFileSync(notebook, "utf8")).cells as Array<{ cell_type: string; source: string | string[] }>;
      const code = cells.filter((c) => c.cell_type === "code").map((c) => (Array.isArray(c.source) ? c.source.join("") : c.source));
      expect(code[0]).toMatch(/await startLesson\(\)/);
      expect(code[code.length - 1].trim()).toBe("lesson.checkTensors();");
      const [result] = await executeNotebooks([notebook], { extraArgs: ["--rerun"] });
      console.log(`${result.notebook} (every cell twice): cells ${result.execute_seconds} s`);
      expect(result.errors).toEqual([]);
      expect(result.ok).toBe(true);
    }, 20 * MINUTES);
  }
});

/** A one-cell-per-source notebook for the checker's own tests, declaring `expectedImages`. */
function notebookJson(sources: string[], expectedImages: number): string {
  const cells = sources.map((source, i) => ({ cell_type: "code", id: `c${i}`, execution_count: null, metadata: {}, outputs: [], source }));
  const metadata = {
    kernelspec: { name: "tslab", display_name: "TypeScript (tslab)", language: "typescript" },
    sprite_diffusion: { expected_images: expectedImages },
  };
  return JSON.stringify({ cells, metadata, nbformat: 4, nbformat_minor: 5 });
}

describeWithPrerequisites("the notebook checker fails what it must", ["venv", "kernelspec", "library"], () => {
  // Inside the project (.tmp/) so the kernel resolves "sprite-diffusion" from node_modules.
  const folder = path.join(ROOT, ".tmp", "notebook-checker");
  afterAll(() => rmSync(folder, { recursive: true, force: true }));

  it("fails a lesson whose cell leaks a tensor only when it is run again", async () => {
    mkdirSync(folder, { recursive: true });
    const file = path.join(folder, "leaks-on-rerun.ipynb");
    const setup = 'import * as tf from "@tensorflow/tfjs-core";\nimport { startLesson } from "sprite-diffusion";\nconst lesson = await startLesson();\nlesson.markBaseline();';
    // Like a cell that builds a model without freeing the previous run's: harmless once, a leak on a re-run.
    const leaky = "const g = globalThis as { runs?: number };\ng.runs = (g.runs ?? 0) + 1;\nif (g.runs > 1) tf.zeros([1]);";
    writeFileSync(file, notebookJson([setup, leaky, "lesson.checkTensors();"], 0));
    const [once] = await executeNotebooks([file], { echoLog: false });
    const [twice] = await executeNotebooks([file], { echoLog: false, extraArgs: ["--rerun"] });
    expect(once.errors).toEqual([]);
    expect(twice.ok).toBe(false);
    expect(twice.errors.join("\n")).toMatch(/Tensor check: .* 1 more than after set-up/);
  }, 10 * MINUTES);

  it("reports a throwing cell, an unawaited rejection and a wrong image count", async () => {
    mkdirSync(folder, { recursive: true });
    const cases = {
      throws: notebookJson(['const a = 1;', 'throw new Error("deliberate failure 42");', 'console.log("after");'], 0),
      unawaited: notebookJson(
        [
          'Promise.reject(new Error("nobody awaits me")).then(() => 1);\nawait new Promise((r) => setTimeout(r, 200));',
          'setTimeout(() => { throw new Error("thrown later"); }, 0);\nawait new Promise((r) => setTimeout(r, 200));',
        ],
        0,
      ),
      imageCount: notebookJson(['import { showHtml } from "sprite-diffusion";\nshowHtml("<p>no image here</p>");'], 1),
    };
    const files = Object.entries(cases).map(([name, json]) => {
      const file = path.join(folder, `${name}.ipynb`);
      writeFileSync(file, json);
      return file;
    });
    const [throws, unawaited, imageCount] = await executeNotebooks(files, { echoLog: false });

    expect(throws.ok).toBe(false);
    expect(throws.errors.join("\n")).toMatch(/cell 1 failed[\s\S]*deliberate failure 42/);
    expect(unawaited.ok).toBe(false);
    expect(unawaited.errors).toHaveLength(2);
    expect(unawaited.errors[0]).toMatch(/cell 0 wrote to stderr[\s\S]*UnhandledPromiseRejection: Error: nobody awaits me/);
    expect(unawaited.errors[1]).toMatch(/cell 1 wrote to stderr[\s\S]*UncaughtException: Error: thrown later/);
    expect(imageCount.ok).toBe(false);
    expect(imageCount.errors).toEqual(["0 image outputs (image/png or image/gif), metadata expects 1"]);
  }, 10 * MINUTES);
});
