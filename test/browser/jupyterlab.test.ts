/**
 * The lessons as a person meets them: JupyterLab started by scripts/start.sh (on a free port,
 * quick mode), lesson 01 (the fixture notebook until lesson 01 exists) opened in headless Debian
 * Chromium driven by playwright-core, every cell run, the images and plots awaited, a screenshot
 * saved to reports/browser/, any error shown in the page a failure. Everything started here is
 * stopped here, and the notebook file is left as it was (autosave is off).
 */
import { spawn, type ChildProcess } from "child_process";
import { createHash, randomBytes } from "crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "fs";
import { createServer } from "net";
import * as os from "os";
import * as path from "path";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { afterAll, expect, it } from "vitest";
import { CHROMIUM, ROOT, describeWithPrerequisites } from "../notebooks/environment";

const lesson01 = existsSync(path.join(ROOT, "notebooks"))
  ? readdirSync(path.join(ROOT, "notebooks")).find((f) => /^01.*\.ipynb$/.test(f))
  : undefined;
const NOTEBOOK = lesson01
  ? path.join(ROOT, "notebooks", lesson01)
  : path.join(ROOT, "test", "fixtures", "notebooks", "notebook-plumbing.ipynb");
const SCREENSHOT = path.join(ROOT, "reports", "browser", `${path.basename(NOTEBOOK, ".ipynb")}.png`);
const CHROMIUM_ARGS = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-quic",
  "--no-first-run", "--disable-component-update", "--disable-sync",
];

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

const sha256 = (file: string) => createHash("sha256").update(readFileSync(file)).digest("hex");
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Kernel processes of this server: their connection files live in its runtime folder. */
function kernelsUnder(runtimeDir: string): number[] {
  return readdirSync("/proc")
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(runtimeDir);
      } catch {
        return false; // exited meanwhile
      }
    })
    .map(Number);
}

/**
 * JupyterLab's state as the page shows it. The callbacks run in the page, where `jupyterapp` is
 * exposed by --LabApp.expose_app_in_browser; they reach the page's globals through `globalThis`
 * (this project compiles without the DOM library).
 */
interface PageState {
  pending: number;
  errors: string[];
  dialogs: string[];
  kernel: string;
  images: number;
  plots: number;
}
function readPageState(page: Page): Promise<PageState> {
  return page.evaluate(() => {
    const page = globalThis as any;
    const panel = page.jupyterapp.shell.currentWidget;
    const codeCells = panel.content.widgets.filter((cell: any) => cell.model.type === "code" && cell.model.sharedModel.getSource().trim());
    const all = (selector: string): any[] => Array.from(page.document.querySelectorAll(selector));
    const texts = (selector: string) => all(selector).map((e) => String(e.textContent ?? "").slice(0, 2000));
    const kernel = panel.sessionContext.session?.kernel;
    return {
      pending: codeCells.filter((cell: any) => cell.model.executionCount === null).length,
      errors: texts('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"], .jp-OutputArea-output[data-mime-type="application/vnd.jupyter.error"]'),
      dialogs: texts(".jp-Dialog"),
      kernel: `${kernel?.name ?? "none"}:${kernel?.status ?? "none"}`,
      images: all(".jp-OutputArea-output img:not(.plot-img)").filter((img) => img.complete && img.naturalWidth > 0).length,
      plots: all(".jp-RenderedPlotly").filter((plot) => plot.querySelector(".main-svg")).length, // drawn charts
    };
  });
}

/** Waits until the opened notebook's document is loaded and its kernel session is ready. */
async function waitForKernel(page: Page): Promise<void> {
  await page.waitForFunction(() => (globalThis as any).jupyterapp?.shell?.currentWidget?.sessionContext, null, { timeout: 120_000 });
  await page.evaluate(async () => {
    const panel = (globalThis as any).jupyterapp.shell.currentWidget;
    const timeout = new Promise((_, reject) => setTimeout(() => reject(new Error("the notebook's kernel was not ready within 180 s")), 180_000));
    await Promise.race([Promise.all([panel.context.ready, panel.sessionContext.ready]), timeout]);
  });
}

/** Starts "Run All Cells" (as the menu does) without waiting for it to finish. */
async function startRunAll(page: Page): Promise<void> {
  await page.evaluate(() => {
    void (globalThis as any).jupyterapp.commands.execute("notebook:run-all-cells");
  });
}

describeWithPrerequisites("JupyterLab in headless Chromium", ["venv", "kernelspec", "library", "chromium"], () => {
  const scratch = mkdtempSync(path.join(os.tmpdir(), "sprite-diffusion-lab-"));
  const runtimeDir = path.join(scratch, "runtime");
  let server: ChildProcess | undefined;
  let context: BrowserContext | undefined;
  let serverLog = "";

  async function stopServer(): Promise<void> {
    if (!server || server.exitCode !== null) return;
    const exited = new Promise((resolve) => server!.once("exit", resolve));
    server.kill("SIGTERM"); // start.sh exec'd jupyter: this is the server, which shuts its kernels down
    await Promise.race([exited, sleep(20_000)]);
    if (server.exitCode === null && server.signalCode === null) server.kill("SIGKILL");
  }

  afterAll(async () => {
    await context?.close().catch(() => undefined);
    await stopServer();
    for (const pid of kernelsUnder(runtimeDir)) process.kill(pid, "SIGKILL"); // only if the test failed midway
    rmSync(scratch, { recursive: true, force: true });
  });

  it(`runs ${path.relative(ROOT, NOTEBOOK)} cell by cell and shows its images`, async () => {
    const expected = JSON.parse(readFileSync(NOTEBOOK, "utf8")).metadata.sprite_diffusion as { expected_images: number; expected_plots?: number };
    const notebookHash = sha256(NOTEBOOK);
    const started = Date.now();
    const seconds = () => ((Date.now() - started) / 1000).toFixed(1);

    // Lab settings for this run only: no autosave (the notebook stays as committed), every cell in the DOM.
    const settings = path.join(scratch, "settings");
    mkdirSync(path.join(settings, "@jupyterlab", "docmanager-extension"), { recursive: true });
    mkdirSync(path.join(settings, "@jupyterlab", "notebook-extension"), { recursive: true });
    writeFileSync(path.join(settings, "@jupyterlab", "docmanager-extension", "plugin.jupyterlab-settings"), '{ "autosave": false }');
    writeFileSync(path.join(settings, "@jupyterlab", "notebook-extension", "tracker.jupyterlab-settings"), '{ "windowingMode": "none" }');

    const port = await freePort();
    const token = randomBytes(24).toString("hex");
    server = spawn("bash", [
      path.join(ROOT, "scripts", "start.sh"),
      `--LabApp.user_settings_dir=${settings}`,
      `--LabApp.workspaces_dir=${path.join(scratch, "workspaces")}`,
      "--LabApp.expose_app_in_browser=True",
    ], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        ...process.env,
        SPRITE_DIFFUSION_SKIP_SETUP: "1", // test.sh has just run it
        SPRITE_DIFFUSION_NOTEBOOK_DIR: path.dirname(NOTEBOOK),
        SPRITE_DIFFUSION_QUICK: "1", // the kernels inherit it
        JUPYTER_PORT: String(port),
        JUPYTER_TOKEN: token,
        JUPYTER_RUNTIME_DIR: runtimeDir,
        JUPYTER_CONFIG_DIR: path.join(scratch, "config"),
      },
    });
    server.stdout!.on("data", (chunk) => (serverLog += chunk));
    server.stderr!.on("data", (chunk) => (serverLog += chunk));
    const base = `http://127.0.0.1:${port}`;
    for (let ready = false; !ready; await sleep(250)) {
      if (server.exitCode !== null) throw new Error(`scripts/start.sh exited (${server.exitCode}):\n${serverLog}`);
      if (Date.now() - started > 90_000) throw new Error(`JupyterLab did not answer within 90 s:\n${serverLog}`);
      ready = await fetch(`${base}/api/status?token=${token}`).then((r) => r.ok, () => false);
    }
    expect(serverLog).toContain(`JupyterLab: http://127.0.0.1:${port}/lab?token=${token}`);
    const serverSeconds = seconds();

    context = await chromium.launchPersistentContext(path.join(scratch, "chromium-profile"), {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1280, height: 1600 },
    });
    const page = context.pages()[0] ?? (await context.newPage());
    const pageErrors: string[] = [];
    page.on("pageerror", (error) => pageErrors.push(String(error)));
    await page.goto(`${base}/lab/tree/${encodeURIComponent(path.basename(NOTEBOOK))}?token=${token}`);
    await waitForKernel(page);
    const kernelSeconds = seconds();
    await startRunAll(page);

    let state = await readPageState(page);
    const runStarted = Date.now();
    while (state.errors.length === 0 && state.dialogs.length === 0 && (state.pending > 0 || !state.kernel.endsWith(":idle") || state.images < expected.expected_images || state.plots < (expected.expected_plots ?? 0))) {
      if (Date.now() - runStarted > 15 * 60_000) break;
      await sleep(500);
      state = await readPageState(page);
      if ((Date.now() - runStarted) % 30_000 < 500) console.log(`browser test: waiting, ${JSON.stringify(state)}`);
    }
    const runSeconds = ((Date.now() - runStarted) / 1000).toFixed(1);
    await sleep(500); // let the last outputs paint
    const firstImage = page.locator(".jp-OutputArea-output img:not(.plot-img)").first();
    if (state.images > 0) await firstImage.scrollIntoViewIfNeeded();
    mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT });
    // And the notebook's end (the last outputs: plots, summaries).
    await page.locator(".jp-OutputArea-output").last().scrollIntoViewIfNeeded();
    await page.screenshot({ path: SCREENSHOT.replace(/\.png$/, "-end.png") });
    console.log(`browser test: server up ${serverSeconds} s, kernel ready ${kernelSeconds} s, all cells ${runSeconds} s; screenshots ${path.relative(ROOT, SCREENSHOT)}, -end.png`);

    expect(state.errors).toEqual([]);
    expect(state.dialogs).toEqual([]);
    expect(pageErrors).toEqual([]);
    expect(state.kernel).toBe("tslab:idle");
    expect(state.pending).toBe(0);
    expect(state.images).toBe(expected.expected_images);
    if (expected.expected_plots !== undefined) expect(state.plots).toBe(expected.expected_plots);

    await context.close();
    context = undefined;
    await stopServer();
    expect(kernelsUnder(runtimeDir)).toEqual([]); // the server shut its kernel down
    expect(sha256(NOTEBOOK)).toBe(notebookHash); // nothing saved into the committed notebook
  }, 20 * 60_000);
});
