/**
 * Turns the runs of both sides into rows (medians, spread, ratios, memory, share of the machine's
 * sustained GFLOP/s) and renders them as a terminal table and as Markdown.
 */
import type { BenchCase } from "./worker";
import type { SideRun } from "./sides";

/** One image forward through ContextUnet: 150.7 M multiply-adds (contextunet_torch.py flops). */
export const DEFAULT_MACS_PER_IMAGE = 150_700_000;
/** A training step costs about 3 forwards (forward, input gradients, weight gradients). */
export const TRAIN_COST_FACTOR = 3;

export interface CaseSpec {
  case: Exclude<BenchCase, "matmul">;
  name: string;
  /** Images (or sprites) one timed repetition produces, after `scale`. */
  images: number;
  /** Model forwards per image in one timed repetition. */
  forwardsPerImage: number;
  /** Timed repetition -> reported operation (DDPM: 25 timed steps x 20 = 500). */
  scale: number;
  unit: "images/s" | "sprites/s";
  /** False when the op is not ContextUnet forwards (its GFLOP/s and share of peak are left out). */
  countsModelFlops?: boolean;
}

export const CASES: CaseSpec[] = [
  { case: "train", name: "train step (batch 100: forward, backward, Adam)", images: 100, forwardsPerImage: TRAIN_COST_FACTOR, scale: 1, unit: "images/s" },
  { case: "sample", name: "sampling forward (one DDPM step, batch 32)", images: 32, forwardsPerImage: 1, scale: 1, unit: "images/s" },
  { case: "ddim", name: "DDIM-25, 32 sprites", images: 32, forwardsPerImage: 25, scale: 1, unit: "sprites/s" },
  { case: "ddpm", name: "DDPM-500, 32 sprites (25 steps timed x 20)", images: 32, forwardsPerImage: 500, scale: 20, unit: "sprites/s" },
  // Guidance (lesson 06): classifier-free = one forward of the doubled batch per step (2 x 25 forwards a sprite).
  { case: "cfg-ddim", name: "DDIM-25 with classifier-free guidance, 32 sprites (doubled batch)", images: 32, forwardsPerImage: 50, scale: 1, unit: "sprites/s" },
  { case: "classifier-ddim", name: "DDIM-25 with classifier guidance, 32 sprites (+ classifier gradient per step)", images: 32, forwardsPerImage: 25, scale: 1, unit: "sprites/s" },
  { case: "classifier-grad", name: "noisy classifier: forward + input gradient, batch 32", images: 32, forwardsPerImage: 1, scale: 1, unit: "images/s", countsModelFlops: false },
];

export interface BenchRow {
  name: string;
  case: string;
  backend: string;
  provider: string | null;
  /** The reference side: "PyTorch <torch.__version__> (<origin>)", e.g. "PyTorch 2.15.0+cu132 (PyPI, .venv-torch)". */
  reference: string;
  status: "ok" | "failed" | "skipped";
  /** Median time of the whole operation (ms), ours and the reference's. */
  ours_ms: number | null;
  reference_ms: number | null;
  /** [min, max] over the timed repetitions (ms, scaled like the median). */
  ours_spread_ms: [number, number] | null;
  reference_spread_ms: [number, number] | null;
  ours_reps: number;
  reference_reps: number;
  unit: string;
  ours_per_s: number | null;
  reference_per_s: number | null;
  /** Our time / PyTorch's time (<= 1 means as fast or faster). */
  ratio: number | null;
  /** Median process CPU time (all threads) of our side, ms, scaled like ours_ms. */
  ours_cpu_ms: number | null;
  ours_peak_rss_mb: number | null;
  reference_peak_rss_mb: number | null;
  /** Model GFLOP/s achieved, and as a fraction of the machine's sustained peak. */
  ours_gflops: number | null;
  reference_gflops: number | null;
  ours_share_of_peak: number | null;
  reference_share_of_peak: number | null;
  machine_peak_gflops: number | null;
  note: string;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** All timed repetitions of one side of one case, over every round, and its worst error. */
export function pool(runs: SideRun[]): { times: number[]; cpu: number[]; peakMb: number; error?: string; provider?: string } {
  const times = runs.flatMap((r) => r.times_ms);
  const cpu = runs.flatMap((r) => r.cpu_ms ?? []);
  const peakMb = Math.max(0, ...runs.map((r) => r.peak_rss_mb));
  const error = runs.find((r) => r.error)?.error;
  return { times, cpu, peakMb, error, provider: runs.find((r) => r.provider)?.provider };
}

/** GFLOP/s of one [n, n] x [n, n] product from its median time. */
export function matmulGflops(runs: SideRun[], n: number): number | null {
  const { times } = pool(runs);
  return times.length ? (2 * n ** 3) / (median(times) / 1000) / 1e9 : null;
}

export function makeRow(
  spec: CaseSpec,
  backend: string,
  ours: SideRun[],
  reference: SideRun[],
  context: { macsPerImage: number; peakGflops: number | null; referenceMissing: string | null; reference: string; skipped?: string },
): BenchRow {
  const o = pool(ours);
  const r = pool(reference);
  const gflopPerOp = (2 * context.macsPerImage * spec.images * spec.forwardsPerImage) / 1e9;
  const scaled = (times: number[]) => (times.length ? median(times) * spec.scale : null);
  const spread = (times: number[]): [number, number] | null =>
    times.length ? [Math.min(...times) * spec.scale, Math.max(...times) * spec.scale] : null;
  const oursMs = scaled(o.times);
  const refMs = scaled(r.times);
  const perSecond = (ms: number | null) => (ms ? spec.images / (ms / 1000) : null);
  const gflops = (ms: number | null) => (ms && spec.countsModelFlops !== false ? gflopPerOp / (ms / 1000) : null);
  const share = (g: number | null) => (g !== null && context.peakGflops ? g / context.peakGflops : null);
  const notes: string[] = [];
  if (context.skipped) notes.push(context.skipped);
  else if (o.error) notes.push(`ours failed: ${o.error}`);
  if (context.referenceMissing) notes.push(`PyTorch reference unavailable: ${context.referenceMissing}`);
  else if (r.error) notes.push(`PyTorch failed: ${r.error}`);
  return {
    name: spec.name,
    case: spec.case,
    backend,
    provider: o.provider ?? null,
    reference: context.reference,
    status: context.skipped ? "skipped" : oursMs === null ? "failed" : "ok",
    ours_ms: oursMs,
    reference_ms: refMs,
    ours_spread_ms: spread(o.times),
    reference_spread_ms: spread(r.times),
    ours_reps: o.times.length,
    reference_reps: r.times.length,
    unit: spec.unit,
    ours_per_s: perSecond(oursMs),
    reference_per_s: perSecond(refMs),
    ratio: oursMs !== null && refMs !== null ? oursMs / refMs : null,
    ours_cpu_ms: o.cpu.length ? median(o.cpu) * spec.scale : null,
    ours_peak_rss_mb: o.times.length || o.peakMb ? o.peakMb : null,
    reference_peak_rss_mb: r.times.length ? r.peakMb : null,
    ours_gflops: gflops(oursMs),
    reference_gflops: gflops(refMs),
    ours_share_of_peak: share(gflops(oursMs)),
    reference_share_of_peak: share(gflops(refMs)),
    machine_peak_gflops: context.peakGflops,
    note: notes.join("; "),
  };
}

const fmtMs = (ms: number | null) => (ms === null ? "-" : ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`);
const fmtSpread = (s: [number, number] | null) => (s ? `${fmtMs(s[0])}-${fmtMs(s[1])}` : "");
const fmtRate = (v: number | null) => (v === null ? "-" : v >= 10 ? v.toFixed(0) : v.toFixed(2));
const fmtPct = (v: number | null) => (v === null ? "-" : `${(100 * v).toFixed(1)} %`);
const fmtMb = (v: number | null) => (v === null ? "-" : v >= 1024 ? `${(v / 1024).toFixed(2)} GB` : `${v.toFixed(0)} MB`);

/** The columns; the reference's time column names its PyTorch (version and origin) when the rows say it. */
function header(rows: BenchRow[]): string[] {
  const reference = rows.find((r) => r.reference)?.reference ?? "PyTorch";
  return ["case", "backend", "ours (median, min-max)", "ours CPU time", `${reference} (median, min-max)`, "ours/s", "PyTorch/s", "ratio ours/PyTorch", "share of peak ours | PyTorch", "peak RSS ours | PyTorch", "note"];
}

function cells(row: BenchRow): string[] {
  const ours = row.status === "ok" ? `${fmtMs(row.ours_ms)} (${fmtSpread(row.ours_spread_ms)}, n=${row.ours_reps})` : row.status;
  const ref = row.reference_ms === null ? "-" : `${fmtMs(row.reference_ms)} (${fmtSpread(row.reference_spread_ms)}, n=${row.reference_reps})`;
  return [
    row.name,
    row.backend,
    ours,
    fmtMs(row.ours_cpu_ms),
    ref,
    `${fmtRate(row.ours_per_s)} ${row.unit}`,
    fmtRate(row.reference_per_s),
    row.ratio === null ? "-" : row.ratio.toFixed(2),
    `${fmtPct(row.ours_share_of_peak)} | ${fmtPct(row.reference_share_of_peak)}`,
    `${fmtMb(row.ours_peak_rss_mb)} | ${fmtMb(row.reference_peak_rss_mb)}`,
    row.note,
  ];
}

/** A plain-text table for the terminal (notes on their own lines below). */
export function renderTable(rows: BenchRow[]): string {
  const body = rows.map((r) => cells(r).slice(0, -1));
  const head = header(rows).slice(0, -1);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((c) => c[i].length)));
  const line = (c: string[]) => c.map((v, i) => v.padEnd(widths[i])).join("  ");
  const notes = rows.filter((r) => r.note).map((r) => `  ${r.case}/${r.backend}: ${r.note}`);
  return [line(head), line(widths.map((w) => "-".repeat(w))), ...body.map(line), ...(notes.length ? ["", "notes:", ...notes] : [])].join("\n");
}

export function renderMarkdown(rows: BenchRow[], preamble: string[]): string {
  const esc = (v: string) => v.replace(/\|/g, "\\|");
  const head = header(rows);
  const table = [
    `| ${head.join(" | ")} |`,
    `|${head.map(() => "---").join("|")}|`,
    ...rows.map((r) => `| ${cells(r).map(esc).join(" | ")} |`),
  ];
  return [...preamble, "", ...table, ""].join("\n");
}
