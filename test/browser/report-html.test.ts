/**
 * The report's HTML page is self-contained: scripts/execute-notebooks.py --report writes the
 * fixture notebook's page, and headless Chromium, with every network request refused, shows its
 * images, draws its plotly charts and typesets its formula, and asks the network for nothing.
 */
import { mkdtempSync, rmSync } from "fs";
import * as os from "os";
import * as path from "path";
import { chromium } from "playwright-core";
import { afterAll, expect, it } from "vitest";
import { CHROMIUM, ROOT, describeWithPrerequisites, executeNotebooks } from "../notebooks/environment";

const FIXTURE = path.join(ROOT, "test", "fixtures", "notebooks", "notebook-plumbing.ipynb");

describeWithPrerequisites("report HTML without network", ["venv", "kernelspec", "library", "chromium", "mathjax"], () => {
  const reportDir = mkdtempSync(path.join(os.tmpdir(), "sprite-diffusion-report-"));
  afterAll(() => rmSync(reportDir, { recursive: true, force: true }));

  it("shows the fixture's images, plots and formula offline", async () => {
    const [result] = await executeNotebooks([FIXTURE], { extraArgs: ["--report", reportDir] });
    expect(result.errors).toEqual([]);

    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking"] });
    try {
      const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
      const requested: string[] = [];
      await page.route("**/*", (route) => {
        const url = route.request().url();
        if (url.startsWith("file:") || url.startsWith("data:")) return route.continue();
        requested.push(url);
        return route.abort();
      });
      const pageErrors: string[] = [];
      page.on("pageerror", (error) => pageErrors.push(String(error)));
      await page.goto(`file://${path.join(reportDir, "notebook-plumbing", "notebook-plumbing.html")}`);
      await page.waitForFunction(() => (globalThis as any).document.querySelectorAll(".js-plotly-plot .main-svg").length >= 2, null, { timeout: 60_000 });
      await page.waitForFunction(() => (globalThis as any).document.querySelector("mjx-container svg"), null, { timeout: 60_000 });
      const imageWidths = await page.evaluate(() => Array.from((globalThis as any).document.images as ArrayLike<{ naturalWidth: number }>, (img) => img.naturalWidth));

      expect(requested).toEqual([]);
      expect(pageErrors).toEqual([]);
      expect(imageWidths).toEqual([256, 48]); // the PNG grid and the GIF, decoded
    } finally {
      await browser.close();
    }
  }, 10 * 60_000);
});
