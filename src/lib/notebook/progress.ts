/**
 * A live progress bar for long loops (sampling, training): step / total, percent, the latest
 * loss (or any named metric), steps/s and images/s, elapsed time and ETA.
 *
 * In tslab it is one output updated in place (a display slot); in a terminal it rewrites one line
 * (TTY) or prints a line every tenth of the run (logs, CI). Updates are throttled, so calling
 * `update` every step costs nothing visible; read tensor values for it once per log interval, not
 * every step (`await loss.data()` stalls the pipeline).
 */
import { DisplaySlot, escapeHtml, inTslabKernel } from "./display";

/** Options of `progressBar`; every default is here. */
export interface ProgressOptions {
  /** Number of steps the loop will run (> 0). */
  total: number;
  /** What the loop does, shown before the bar, e.g. "DDPM sampling". Default "progress". */
  label?: string;
  /** Images each step processes (the batch size): adds an images/s rate. Default: no rate. */
  imagesPerStep?: number;
  /** Least time between two redraws, in ms (first and last always draw). Default 250. */
  minIntervalMs?: number;
}

/** Extra numbers shown after the bar, e.g. `{ loss: 0.0213 }`. */
export type ProgressMetrics = Record<string, number>;

/** What a redraw shows: a snapshot of the loop at one moment. */
export interface ProgressState {
  label: string;
  step: number;
  total: number;
  elapsedSeconds: number;
  metrics: ProgressMetrics;
  imagesPerStep?: number;
  /** Set when the loop ended early (stop requested): "stopped" is shown instead of an ETA. */
  stopped?: boolean;
}

/** Seconds as m:ss, or h:mm:ss from an hour. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "--:--";
  const whole = Math.round(seconds);
  const h = Math.floor(whole / 3600);
  const m = Math.floor((whole % 3600) / 60);
  const s = String(whole % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`;
}

/** A metric with 4 significant digits (losses span 1e-3..1). */
function formatMetric(value: number): string {
  return Number.isFinite(value) ? value.toPrecision(4) : String(value);
}

/** The parts of a redraw after the bar, in reading order. */
function progressFields(state: ProgressState): string[] {
  const { step, total, elapsedSeconds } = state;
  const fields = Object.entries(state.metrics).map(([name, value]) => `${name} ${formatMetric(value)}`);
  const stepsPerSecond = elapsedSeconds > 0 ? step / elapsedSeconds : 0;
  if (step > 0 && elapsedSeconds > 0) {
    fields.push(`${stepsPerSecond.toFixed(stepsPerSecond < 10 ? 2 : 1)} steps/s`);
    if (state.imagesPerStep !== undefined) fields.push(`${(stepsPerSecond * state.imagesPerStep).toFixed(1)} images/s`);
  }
  fields.push(`elapsed ${formatDuration(elapsedSeconds)}`);
  if (state.stopped) {
    fields.push("stopped");
  } else if (step < total) {
    // ETA assumes the remaining steps run at the mean rate so far.
    fields.push(`ETA ${step > 0 ? formatDuration(((total - step) * elapsedSeconds) / step) : "--:--"}`);
  } else {
    fields.push("done");
  }
  return fields;
}

/** The redraw as one line of text: `label [#####.....] 50/100 50% | loss 0.02130 | ...`. */
export function formatProgressText(state: ProgressState, width = 24): string {
  const fraction = Math.min(1, Math.max(0, state.step / state.total));
  const filled = Math.round(fraction * width);
  const bar = "#".repeat(filled) + ".".repeat(width - filled);
  const head = `${state.label} [${bar}] ${state.step}/${state.total} ${Math.floor(fraction * 100)}%`;
  return [head, ...progressFields(state)].join(" | ");
}

/** The redraw as HTML: a coloured bar and the same fields. */
export function formatProgressHtml(state: ProgressState): string {
  const percent = Math.min(100, Math.max(0, (100 * state.step) / state.total));
  const colour = state.stopped ? "#d9822b" : state.step >= state.total ? "#3a9d5d" : "#3b7dd8";
  const fields = progressFields(state).map(escapeHtml).join(" &middot; ");
  return (
    `<div style="font-family:monospace;font-size:13px;display:flex;align-items:center;gap:8px">` +
    `<span style="white-space:nowrap">${escapeHtml(state.label)}</span>` +
    `<div style="width:240px;height:12px;background:#e4e4e4;border-radius:3px;overflow:hidden">` +
    `<div style="width:${percent.toFixed(1)}%;height:100%;background:${colour}"></div></div>` +
    `<span>${state.step}/${state.total} (${Math.floor(percent)}%) &middot; ${fields}</span></div>`
  );
}

/** A progress bar; make one with `progressBar`. */
export class ProgressBar {
  private readonly options: Required<Omit<ProgressOptions, "imagesPerStep">> & Pick<ProgressOptions, "imagesPerStep">;
  private readonly slot = new DisplaySlot();
  private readonly startMs = performance.now();
  private lastDrawMs = -Infinity;
  private lastLoggedTenth = -1;
  private step = 0;
  private metrics: ProgressMetrics = {};
  private finished = false;

  constructor(options: ProgressOptions) {
    if (!Number.isInteger(options.total) || options.total <= 0) {
      throw new Error(`progressBar needs a positive integer total (the number of steps); got ${options.total}.`);
    }
    this.options = { label: "progress", minIntervalMs: 250, ...options };
    this.draw();
  }

  /** Records that `step` of `total` steps are done (1-based), with optional metrics to show. */
  update(step: number, metrics?: ProgressMetrics): void {
    this.step = step;
    if (metrics) this.metrics = { ...this.metrics, ...metrics };
    const now = performance.now();
    if (step >= this.options.total || now - this.lastDrawMs >= this.options.minIntervalMs) this.draw();
  }

  /** Final redraw; `stopped` marks a loop that ended early on request. Idempotent. */
  finish(options: { stopped?: boolean } = {}): void {
    if (this.finished) return;
    this.finished = true;
    this.draw(options.stopped ?? this.step < this.options.total);
  }

  /** Seconds since the bar was made. */
  get elapsedSeconds(): number {
    return (performance.now() - this.startMs) / 1000;
  }

  private draw(stopped = false): void {
    this.lastDrawMs = performance.now();
    const state: ProgressState = {
      label: this.options.label,
      step: this.step,
      total: this.options.total,
      elapsedSeconds: this.elapsedSeconds,
      metrics: this.metrics,
      imagesPerStep: this.options.imagesPerStep,
      stopped,
    };
    const text = formatProgressText(state);
    if (inTslabKernel()) {
      this.slot.show({ "text/html": formatProgressHtml(state) }, text);
    } else if (process.stdout.isTTY) {
      process.stdout.write(`\r${text}` + (this.finished ? "\n" : ""));
    } else {
      // Logs and CI: one line per tenth of the run, and the final one.
      const tenth = Math.floor((10 * this.step) / this.options.total);
      if (tenth > this.lastLoggedTenth || this.finished) {
        this.lastLoggedTenth = tenth;
        process.stdout.write(text + "\n");
      }
    }
  }
}

/**
 * Starts a progress bar for a loop of `total` steps:
 *
 *     const bar = progressBar({ total: 500, label: "DDPM", imagesPerStep: 32 });
 *     for (let i = 1; i <= 500; i++) { ...; bar.update(i, { loss }); }
 *     bar.finish();
 */
export function progressBar(options: ProgressOptions): ProgressBar {
  return new ProgressBar(options);
}
