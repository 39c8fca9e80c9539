/**
 * The notebook helpers outside tslab (plain Node, as in tests and command-line tools): they
 * never crash, print a text stand-in, and their pure parts (progress text, figures, chart HTML,
 * the stop signal) give exactly what the notebooks rely on. Inside the kernel they are exercised
 * by the fixture notebook (notebooks.test.ts, browser test).
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  barFigure,
  byMode,
  formatDuration,
  formatProgressHtml,
  formatProgressText,
  isQuickMode,
  lineFigure,
  plotHtml,
  plotLines,
  progressBar,
  showGif,
  showHtml,
  showPng,
  watchForStop,
} from "../../src/lib/notebook";

const PNG_HEADER = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0]);
const GIF_HEADER = Uint8Array.from(Buffer.from("GIF89a\x01\x00"));

/** Captures what the helpers write to stdout. */
function captureStdout(): { text: () => string } {
  const chunks: string[] = [];
  vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
    chunks.push(String(chunk));
    return true;
  });
  return { text: () => chunks.join("") };
}

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

describe("showPng / showGif / showHtml outside tslab", () => {
  it("print a one-line stand-in", () => {
    const out = captureStdout();
    showPng(PNG_HEADER);
    showGif(GIF_HEADER);
    showHtml("<b>hi</b>");
    expect(out.text()).toBe("[PNG image, 10 bytes]\n[GIF animation, 8 bytes]\n<b>hi</b>\n");
  });

  it("reject bytes of the wrong format with a message naming what was seen", () => {
    expect(() => showPng(GIF_HEADER)).toThrow(/showPng expects encoded PNG bytes.*8 bytes starting 47 49 46 38.*For a GIF use showGif/);
    expect(() => showGif(PNG_HEADER)).toThrow(/showGif expects encoded GIF bytes.*starting 89 50 4e 47.*For a PNG use showPng/);
    expect(() => showPng("not bytes" as unknown as Uint8Array)).toThrow(/got string/);
  });
});

describe("progress bar", () => {
  const state = { label: "DDPM", step: 25, total: 100, elapsedSeconds: 10, metrics: { loss: 0.021346 }, imagesPerStep: 32 };

  it("formats step, percent, metrics, rates, elapsed time and ETA", () => {
    // 25 steps in 10 s: 2.50 steps/s, x 32 images = 80.0 images/s; 75 steps left at that rate = 30 s.
    expect(formatProgressText(state, 8)).toBe("DDPM [##......] 25/100 25% | loss 0.02135 | 2.50 steps/s | 80.0 images/s | elapsed 0:10 | ETA 0:30");
    expect(formatProgressText({ ...state, step: 100, elapsedSeconds: 40 }, 4)).toMatch(/\[####\] 100\/100 100% .*\| done$/);
    expect(formatProgressText({ ...state, stopped: true }, 4)).toMatch(/\| stopped$/);
  });

  it("draws the same fields as HTML, escaping the label", () => {
    const html = formatProgressHtml({ ...state, label: "<x>" });
    expect(html).toContain("&lt;x&gt;");
    expect(html).toContain("width:25.0%");
    expect(html).toContain("ETA 0:30");
  });

  it("formats durations as m:ss or h:mm:ss", () => {
    expect([formatDuration(0), formatDuration(59.6), formatDuration(61), formatDuration(3723), formatDuration(NaN)]).toEqual(["0:00", "1:00", "1:01", "1:02:03", "--:--"]);
  });

  it("prints one line per tenth of the run when stdout is not a terminal", () => {
    const out = captureStdout();
    const bar = progressBar({ total: 50, label: "loop", minIntervalMs: 0 });
    for (let step = 1; step <= 50; step++) bar.update(step, { loss: 1 / step });
    bar.finish();
    const lines = out.text().trim().split("\n");
    expect(lines[0]).toMatch(/^loop \[\.+\] 0\/50 0%/);
    expect(lines.length).toBe(1 + 10 + 1); // the start, each tenth, the finish
    expect(lines[lines.length - 1]).toMatch(/50\/50 100% \| loss 0\.02000 .*\| done$/);
  });

  it("marks a loop that finished early as stopped", () => {
    const out = captureStdout();
    const bar = progressBar({ total: 10, minIntervalMs: 0 });
    bar.update(3);
    bar.finish();
    expect(out.text().trim().split("\n").pop()).toMatch(/3\/10 30% .*\| stopped$/);
  });

  it("rejects a total that is not a positive integer", () => {
    expect(() => progressBar({ total: 0 })).toThrow(/positive integer total.*got 0/);
  });
});

describe("plotly charts", () => {
  it("builds line figures with default x = 1..n and a log axis on request", () => {
    const figure = lineFigure([{ name: "loss", y: [3, 2, 1] }], { title: "Loss", logY: true });
    expect(figure.data).toEqual([{ type: "scatter", mode: "lines", name: "loss", x: [1, 2, 3], y: [3, 2, 1] }]);
    expect(figure.layout).toMatchObject({ title: { text: "Loss" }, yaxis: { type: "log" }, showlegend: false });
    expect(() => lineFigure([{ name: "bad", x: [1, 2], y: [1] }])).toThrow(/"bad" has 2 x values but 1 y values/);
  });

  it("builds grouped bar figures with value labels", () => {
    const figure = barFigure([
      { name: "a", labels: ["DDPM", "DDIM"], values: [142, 10.3] },
      { name: "b", labels: ["DDPM", "DDIM"], values: [60, 3.1] },
    ]);
    expect(figure.data[0]).toMatchObject({ type: "bar", x: ["DDPM", "DDIM"], y: [142, 10.3], text: ["142", "10.3"] });
    expect(figure.layout).toMatchObject({ barmode: "group", showlegend: true });
    expect(() => barFigure({ labels: ["x"], values: [] })).toThrow(/1 labels but 0 values/);
  });

  it("makes chart HTML that inlines plotly.js only when given, and survives </script> in data", () => {
    const figure = lineFigure([{ name: "</script><script>alert(1)</script>", y: [1] }]);
    const withLibrary = plotHtml(figure, "window.Plotly = {};");
    const without = plotHtml(figure, null);
    expect(withLibrary).toContain("window.Plotly = {};");
    expect(without).not.toContain("window.Plotly = {};");
    expect(without).toMatch(/^<div id="sprite-diffusion-plot-[0-9a-f]{12}" style="width:100%;height:360px"><\/div><script/);
    // The only "</script>" closing tags are the script elements' own.
    expect(without.match(/<\/script>/g)).toHaveLength(1);
    expect(without).toContain("window.Plotly.newPlot(");
  });

  it("prints a text summary outside tslab", () => {
    const out = captureStdout();
    plotLines([{ name: "loss", y: [0.5, 0.25] }], { title: "Training" });
    expect(out.text()).toBe("[plot] Training\n  loss: 2 points, last 0.25\n");
  });
});

describe("StopSignal", () => {
  it("turns an interrupt into a stop request, then stops listening", () => {
    const listenersBefore = process.listenerCount("SIGINT");
    vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    const stop = watchForStop();
    expect(process.listenerCount("SIGINT")).toBe(listenersBefore + 1);
    expect([stop.requested, stop.shouldStop(), stop.signal.aborted]).toEqual([false, false, false]);
    process.emit("SIGINT", "SIGINT");
    expect([stop.requested, stop.shouldStop(), stop.signal.aborted, stop.reason]).toEqual([true, true, true, "interrupted (SIGINT)"]);
    expect(process.listenerCount("SIGINT")).toBe(listenersBefore);
  });

  it("can be requested by code, and a released signal ignores later interrupts", () => {
    const listenersBefore = process.listenerCount("SIGINT");
    const first = watchForStop();
    const second = watchForStop();
    first.request("loss is NaN");
    expect([first.requested, first.reason, second.requested]).toEqual([true, "loss is NaN", false]);
    second.release();
    expect(process.listenerCount("SIGINT")).toBe(listenersBefore);
    expect(second.requested).toBe(false);
  });
});

describe("quick mode", () => {
  it("reads SPRITE_DIFFUSION_QUICK", () => {
    for (const [value, quick] of [["1", true], ["true", true], ["0", false], ["", false], ["false", false]] as const) {
      vi.stubEnv("SPRITE_DIFFUSION_QUICK", value);
      expect(isQuickMode()).toBe(quick);
      expect(byMode({ full: 500, quick: 20 })).toBe(quick ? 20 : 500);
    }
  });
});
