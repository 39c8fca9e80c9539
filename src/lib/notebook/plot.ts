/**
 * Plotly charts for notebooks: line charts (loss curves) and bar charts (timings).
 *
 * Each chart is one output carrying two representations:
 * - application/vnd.plotly.v1+json, the figure as JSON: JupyterLab draws it with the
 *   jupyterlab-plotly renderer (shipped in the `plotly` PyPI package the set-up installs), also
 *   when a saved notebook is reopened;
 * - text/html, a <div> and a script calling Plotly.newPlot: nbconvert's HTML export uses this
 *   one. The first chart of a kernel session inlines plotly.js itself (from the npm package), so
 *   an exported page draws every chart with no network; later charts wait for the page to load
 *   and use the same window.Plotly.
 * Outside tslab a chart prints a short text summary instead.
 */
import { readFileSync } from "fs";
import { randomBytes } from "crypto";
import { inTslabKernel, showBundle } from "./display";

/** A Plotly figure: traces, layout and config as plotly.js takes them. */
export interface PlotlyFigure {
  data: Array<Record<string, unknown>>;
  layout: Record<string, unknown>;
  config?: Record<string, unknown>;
}

/** One line of a line chart; `x` defaults to 1, 2, ... (steps, epochs). */
export interface LineSeries {
  name: string;
  y: readonly number[];
  x?: readonly number[];
}

/** One group of bars: a value per label (e.g. seconds per sampler). */
export interface BarSeries {
  name?: string;
  labels: readonly string[];
  values: readonly number[];
}

/** Titles and sizes shared by both chart kinds; every default is here. */
export interface ChartOptions {
  title?: string;
  xTitle?: string;
  yTitle?: string;
  /** Logarithmic value axis (losses over many steps). Default false. */
  logY?: boolean;
  /** Height in pixels. Default 360. */
  height?: number;
}

function baseLayout(options: ChartOptions): Record<string, unknown> {
  return {
    title: options.title ? { text: options.title } : undefined,
    xaxis: { title: { text: options.xTitle ?? "" } },
    yaxis: { title: { text: options.yTitle ?? "" }, type: options.logY ? "log" : "linear" },
    height: options.height ?? 360,
    margin: { l: 60, r: 20, t: options.title ? 50 : 20, b: 50 },
  };
}

/** The figure `plotLines` shows. Throws when an x and a y differ in length. */
export function lineFigure(series: readonly LineSeries[], options: ChartOptions = {}): PlotlyFigure {
  const data = series.map((line) => {
    if (line.x !== undefined && line.x.length !== line.y.length) {
      throw new Error(`plotLines: series "${line.name}" has ${line.x.length} x values but ${line.y.length} y values; give one x per y, or no x.`);
    }
    const x = line.x ? Array.from(line.x) : line.y.map((_, i) => i + 1);
    return { type: "scatter", mode: "lines", name: line.name, x, y: Array.from(line.y) };
  });
  return { data, layout: { ...baseLayout(options), showlegend: series.length > 1 }, config: { responsive: true } };
}

/** The figure `plotBars` shows; value labels sit on the bars. Throws on a labels/values mismatch. */
export function barFigure(groups: BarSeries | readonly BarSeries[], options: ChartOptions = {}): PlotlyFigure {
  const list: readonly BarSeries[] = Array.isArray(groups) ? groups : [groups as BarSeries];
  const data = list.map((group, index) => {
    if (group.labels.length !== group.values.length) {
      throw new Error(`plotBars: group "${group.name ?? index}" has ${group.labels.length} labels but ${group.values.length} values; give one value per label.`);
    }
    const values = Array.from(group.values);
    const text = values.map((v) => (Number.isFinite(v) ? v.toPrecision(3) : String(v)));
    return { type: "bar", name: group.name ?? "", x: Array.from(group.labels), y: values, text, textposition: "auto" };
  });
  const layout = { ...baseLayout(options), barmode: "group", showlegend: list.length > 1 };
  return { data, layout, config: { responsive: true } };
}

/** Plots lines, e.g. `plotLines([{ name: "loss", y: losses }], { xTitle: "step", logY: true })`. */
export function plotLines(series: readonly LineSeries[], options: ChartOptions = {}): void {
  showPlot(lineFigure(series, options));
}

/** Plots bars, e.g. `plotBars({ labels: ["DDPM-500", "DDIM-25"], values: [142, 10.3] })`. */
export function plotBars(groups: BarSeries | readonly BarSeries[], options: ChartOptions = {}): void {
  showPlot(barFigure(groups, options));
}

/** One line over the bars of `plotLinesOverBars`: a value per label (null leaves a gap). */
export interface OverlayLine {
  name: string;
  values: ReadonlyArray<number | null>;
  /** "line" (default, with markers), "dash" (a reference level) or "markers" (recorded points). */
  style?: "line" | "dash" | "markers";
}

/** Axis titles of `plotLinesOverBars`: the lines' axis on the left, the bars' on the right. */
export interface OverlayOptions extends ChartOptions {
  barTitle?: string;
}

/**
 * The figure `plotLinesOverBars` shows: one category axis, pale bars on a right-hand axis (e.g.
 * seconds) and lines on the left one (e.g. a quality measure and its floor). Throws on a length
 * mismatch.
 */
export function linesOverBarsFigure(labels: readonly string[], bars: BarSeries, lines: readonly OverlayLine[], options: OverlayOptions = {}): PlotlyFigure {
  const check = (name: string, length: number) => {
    if (length !== labels.length) throw new Error(`plotLinesOverBars: "${name}" has ${length} values for ${labels.length} labels; give one value per label.`);
  };
  check(bars.name ?? "bars", bars.values.length);
  const x = Array.from(labels);
  const barTrace = { type: "bar", name: bars.name ?? "", x, y: Array.from(bars.values), yaxis: "y2", opacity: 0.45, text: bars.values.map((v) => v.toPrecision(3)), textposition: "auto" };
  const lineTraces = lines.map((line) => {
    check(line.name, line.values.length);
    const style = line.style ?? "line";
    const look = style === "dash" ? { mode: "lines", line: { dash: "dash", color: "grey" } } : style === "markers" ? { mode: "markers", marker: { size: 11, symbol: "diamond" } } : { mode: "lines+markers", line: { width: 3 } };
    return { type: "scatter", name: line.name, x, y: Array.from(line.values), ...look };
  });
  const layout = {
    ...baseLayout(options),
    yaxis: { title: { text: options.yTitle ?? "" }, rangemode: "tozero", type: options.logY ? "log" : "linear" },
    yaxis2: { title: { text: options.barTitle ?? "" }, overlaying: "y", side: "right", rangemode: "tozero" },
    legend: { orientation: "h", y: -0.2 },
    margin: { l: 60, r: 60, t: options.title ? 50 : 20, b: 90 },
  };
  return { data: [barTrace, ...lineTraces], layout, config: { responsive: true } };
}

/** Lines over bars on two axes, e.g. sample quality (lines) against seconds (bars) per sampler. */
export function plotLinesOverBars(labels: readonly string[], bars: BarSeries, lines: readonly OverlayLine[], options: OverlayOptions = {}): void {
  showPlot(linesOverBarsFigure(labels, bars, lines, options));
}

/** Whether this kernel session already sent plotly.js in a chart's HTML. */
let plotlyJsSent = false;

/** Shows any Plotly figure (see the file comment for what each front end draws). */
export function showPlot(figure: PlotlyFigure): void {
  if (!inTslabKernel()) {
    process.stdout.write(plotSummary(figure) + "\n");
    return;
  }
  const html = plotHtml(figure, plotlyJsSent ? null : plotlyJsSource());
  plotlyJsSent = true;
  showBundle({ "application/vnd.plotly.v1+json": figure, "text/html": html }, plotSummary(figure));
}

/** plotly.js as one script (the minified build when installed). Read once, on the first chart. */
function plotlyJsSource(): string {
  for (const entry of ["plotly.js-dist-min/plotly.min.js", "plotly.js-dist/plotly.js"]) {
    try {
      return readFileSync(require.resolve(entry), "utf8");
    } catch {
      // not installed: try the next build
    }
  }
  throw new Error("plotly.js not found: run `npm ci` (package.json lists plotly.js-dist).");
}

/** Makes code safe inside an inline <script>: "</script" would end the element early. */
function scriptSafe(code: string): string {
  return code.replace(/<\/(script)/gi, "<\\/$1");
}

/**
 * The chart as HTML: a <div>, plotly.js inlined when `plotlyJs` is given, and a script that draws
 * the figure now if plotly.js is loaded, else once the page has loaded (plotly.js may come in a
 * later chart's output).
 */
export function plotHtml(figure: PlotlyFigure, plotlyJs: string | null): string {
  const id = `sprite-diffusion-plot-${randomBytes(6).toString("hex")}`;
  const height = Number(figure.layout.height ?? 360);
  const library = plotlyJs == null ? "" : `<script type="text/javascript">${scriptSafe(plotlyJs)}</script>`;
  const args = [JSON.stringify(id), JSON.stringify(figure.data), JSON.stringify(figure.layout), JSON.stringify(figure.config ?? {})];
  const draw =
    `(function () { var draw = function () { window.Plotly.newPlot(${args.join(", ")}); };` +
    ` if (window.Plotly) { draw(); } else { window.addEventListener("load", draw); } })();`;
  return `<div id="${id}" style="width:100%;height:${height}px"></div>${library}<script type="text/javascript">${scriptSafe(draw)}</script>`;
}

/** A text stand-in: the title and, per trace, its name, size and last value. */
export function plotSummary(figure: PlotlyFigure): string {
  const title = (figure.layout.title as { text?: string } | undefined)?.text ?? "chart";
  const traces = figure.data.map((trace) => {
    const x = trace.x as unknown[];
    const y = trace.y as number[];
    if (trace.type === "bar") return `  ${trace.name || "bars"}: ${x.map((label, i) => `${label} = ${y[i]}`).join(", ")}`;
    return `  ${trace.name}: ${y.length} points, last ${y.length ? y[y.length - 1] : "none"}`;
  });
  return [`[plot] ${title}`, ...traces].join("\n");
}
