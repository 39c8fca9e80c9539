/**
 * `npm run bench` (tsx bench/run.ts): this project's ContextUnet on every TensorFlow.js backend
 * that runs here against the PyTorch reference (../shared/bench/contextunet_torch.py), in one run
 * on one machine, the sides alternating. Every measurement is a child process of its own (so
 * each peak RSS is that side's): its warm-up, then timed repetitions; medians over all rounds.
 *
 *   npx tsx bench/run.ts             full run -> bench/results/latest.{json,md} (about 10 min idle)
 *   npx tsx bench/run.ts --quick     few repetitions -> bench/results/quick.{json,md}
 *   npx tsx bench/run.ts --cases cfg-ddim,cfg-onnx-ddim,classifier-ddim,classifier-grad --name guidance
 *                                    some cases -> bench/results/guidance.{json,md} (latest.md keeps the full run)
 *   npx tsx bench/run.ts --quick --cases hybrid-train,learned-sample --name improved-ddpm
 *                                    improved DDPM's rows (twin: bench/improved_ddpm_torch.py)
 *   npx tsx bench/run.ts --quick --cases attention-train,attention-sample --name attention-unet
 *                                    the attention UNet of configs/mnist.json (twin: bench/attention_unet_torch.py):
 *                                    attention-train = one step of its config's training (batch 64: forward
 *                                    process, L_simple, backward, Adam at its rate), attention-sample = one
 *                                    DDPM step at batch 32; attention-ddim = DDIM-25 of 32 (of T = 1000),
 *                                    25 forwards a repetition, so only when named in --cases
 *   npx tsx bench/run.ts --quick --cases ardm-train,ardm-step --name ardm
 *                                    the ARDM transformer at the sprites' size (twin: bench/ardm_torch.py):
 *                                    ardm-train = one training step at its recipe's batch 16 (a fresh t and sigma per
 *                                    datum, Eq. 4's loss, backward, Adam 1e-3), ardm-step = its logits at one
 *                                    decoding step's mask, batch 32
 *   npx tsx bench/run.ts --quick --cases ardm-conv-train,ardm-conv-step --name ardm-conv
 *                                    the same for the ARDM's convolutional UNet of about the transformer's size
 *                                    (twin: bench/ardm_conv_torch.py)
 *   npx tsx bench/run.ts --quick --cases ardm-step,ardm-onnx-step,ardm-conv-step,ardm-conv-onnx-step --name ardm-onnx
 *                                    the ARDM networks' decoding-step forwards with the logits from ONNX Runtime
 *                                    (onnxruntime-node, 2 threads; src/lib/onnx's ARDM graphs) beside TensorFlow.js's
 *   npx tsx bench/run.ts --cases text-train,text-sample,text-onnx-sample --name text
 *                                    the text model of models/text (twin: bench/caption_encoder_torch.py's
 *                                    text modes): text-train = its training step at batch 100 (caption
 *                                    dropout 0.1), text-sample = one DDPM step with captions at batch 32,
 *                                    text-onnx-sample = that step with eps from ONNX Runtime
 *   npx tsx bench/run.ts --quick --cases sample,onnx-sample,attention-sample,attention-onnx-sample --name onnx
 *                                    the sampling forwards with eps from ONNX Runtime (onnxruntime-node, 2 threads)
 *                                    running the networks' ONNX graphs (src/lib/onnx), beside TensorFlow.js's;
 *                                    onnx-ddim = ddim with that eps, attention-onnx-ddim = attention-ddim with it
 *                                    (named only, as attention-ddim)
 *   npx tsx bench/run.ts --reference debian
 *                                    the second reference: Debian's python3-torch (1.13) under /usr/bin/python3
 *                                    -> bench/results/latest-debian.{json,md} (quick-debian, NAME-debian)
 *   options: --cases train,sample,ddim,ddpm,cfg-ddim,classifier-ddim,classifier-grad,hybrid-train,learned-sample,
 *                    attention-train,attention-sample,attention-ddim,ardm-train,ardm-step,ardm-conv-train,ardm-conv-step,
 *                    ardm-onnx-step,ardm-conv-onnx-step,
 *                    text-train,text-sample,text-onnx-sample,
 *                    onnx-sample,attention-onnx-sample,
 *                    onnx-ddim,cfg-onnx-ddim,attention-onnx-ddim
 *            (default: all but attention-ddim and attention-onnx-ddim)  --backends tensorflow,wasm,cpu  --rounds N  --name NAME
 *            --reference pypi|debian (default pypi)
 *
 * The reference (default): current PyTorch from PyPI, pinned in scripts/bench-torch-requirements.txt,
 * in .venv-torch/, which scripts/bench-torch-venv.sh makes on the first run: PyPI's Linux torch
 * wheel pulls about 3 GB of NVIDIA CUDA libraries and needs them to import, even on the CPU. The
 * tests never run the bench or this environment (their parity checks use Debian's python3-torch).
 *
 * The cpu backend (plain JavaScript) only runs the sampling forwards (sample, learned-sample,
 * attention-sample, ardm-step, ardm-conv-step, text-sample): training and whole sampling loops would take minutes to hours per
 * repetition there; its rows say so.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { join } from "node:path";
import { CASES, type BenchRow, type CaseSpec, DEFAULT_MACS_PER_IMAGE, TRAIN_COST_FACTOR, makeRow, matmulGflops, median, pool } from "./report";
import { renderMarkdown, renderTable } from "./report";
import { ARDM_TRAIN_BATCH, ATTENTION_CONFIG_FILE, PROJECT_ROOT, REFERENCE_KINDS, type ReferenceKind, type Reps, type SideRun, TORCH_VENV, pinnedTorchVersion, prepareReference, runOurs, runTorch, torchMacsPerImage, torchVersion } from "./sides";
import type { BenchCase } from "./worker";

const ALL_BACKENDS = ["tensorflow", "wasm", "cpu"];

/**
 * Improved DDPM (Nichol & Dhariwal 2021) on the 6-channel ContextUnet, against
 * bench/improved_ddpm_torch.py. The 6-channel head adds 0.3 % to the forward's multiply-adds;
 * the GFLOP/s columns count the 3-channel model's.
 */
const IMPROVED_DDPM_CASES: CaseSpec[] = [
  { case: "hybrid-train", name: "hybrid-loss train step (improved DDPM, batch 100: forward, L_simple + L_vlb, backward, Adam)", images: 100, forwardsPerImage: TRAIN_COST_FACTOR, scale: 1, unit: "images/s" },
  { case: "learned-sample", name: "learned-variance DDPM step (respaced 50 of 500, batch 32)", images: 32, forwardsPerImage: 1, scale: 1, unit: "images/s" },
];
/**
 * The attention UNet of configs/mnist.json (28x28x1, 1.12 M parameters, attention at 14x14 and 7x7)
 * against bench/attention_unet_torch.py built from the same file, the ARDM transformer at the
 * sprites' size (16x16x3, K = 256, 1.02 M parameters) against bench/ardm_torch.py, and the ARDM's
 * convolutional UNet of about that size (1.02 M) against bench/ardm_conv_torch.py. None is ContextUnet, so their rows leave out the GFLOP/s columns.
 */
const attentionTrainBatch = (JSON.parse(readFileSync(join(PROJECT_ROOT, ATTENTION_CONFIG_FILE), "utf8")) as { training: { batchSize: number } }).training.batchSize;
const ATTENTION_CASES: CaseSpec[] = [
  { case: "attention-train", name: `attention UNet train step (${ATTENTION_CONFIG_FILE}, batch ${attentionTrainBatch}: forward, L_simple, backward, Adam)`, images: attentionTrainBatch, forwardsPerImage: TRAIN_COST_FACTOR, scale: 1, unit: "images/s", countsModelFlops: false },
  { case: "attention-sample", name: "attention UNet sampling forward (one DDPM step, 28x28x1, batch 32)", images: 32, forwardsPerImage: 1, scale: 1, unit: "images/s", countsModelFlops: false },
  { case: "attention-ddim", name: "attention UNet DDIM-25 (of T = 1000), 32 images", images: 32, forwardsPerImage: 25, scale: 1, unit: "images/s", countsModelFlops: false },
];
const ARDM_CASES: CaseSpec[] = [
  { case: "ardm-train", name: `ARDM transformer train step (16x16x3, K = 256, batch ${ARDM_TRAIN_BATCH}: Eq. 4 loss, backward, Adam)`, images: ARDM_TRAIN_BATCH, forwardsPerImage: TRAIN_COST_FACTOR, scale: 1, unit: "images/s", countsModelFlops: false },
  { case: "ardm-step", name: "ARDM transformer forward of one decoding step (batch 32)", images: 32, forwardsPerImage: 1, scale: 1, unit: "images/s", countsModelFlops: false },
  { case: "ardm-conv-train", name: `ARDM conv UNet train step (16x16x3, K = 256, batch ${ARDM_TRAIN_BATCH}: Eq. 4 loss, backward, Adam)`, images: ARDM_TRAIN_BATCH, forwardsPerImage: TRAIN_COST_FACTOR, scale: 1, unit: "images/s", countsModelFlops: false },
  { case: "ardm-conv-step", name: "ARDM conv UNet forward of one decoding step (batch 32)", images: 32, forwardsPerImage: 1, scale: 1, unit: "images/s", countsModelFlops: false },
  // The same forwards on ONNX Runtime (2 threads), against the same PyTorch rows as ardm-step and ardm-conv-step.
  { case: "ardm-onnx-step", name: "ARDM transformer forward of one decoding step on ONNX Runtime (batch 32)", images: 32, forwardsPerImage: 1, scale: 1, unit: "images/s", countsModelFlops: false },
  { case: "ardm-conv-onnx-step", name: "ARDM conv UNet forward of one decoding step on ONNX Runtime (batch 32)", images: 32, forwardsPerImage: 1, scale: 1, unit: "images/s", countsModelFlops: false },
];
/**
 * The text model of models/text (issue 18: a caption encoder, 1.5 % of its parameters, into the
 * course's UNet with a 32-wide context) against bench/caption_encoder_torch.py's text modes (the
 * same encoder into the shared reference's ContextUnet). The UNet's multiply-adds are the course
 * model's but for the context embeddings, so the GFLOP/s columns count those.
 */
const TEXT_CASES: CaseSpec[] = [
  { case: "text-train", name: "text model train step (caption encoder + UNet, batch 100: forward, L_simple, backward, Adam)", images: 100, forwardsPerImage: TRAIN_COST_FACTOR, scale: 1, unit: "images/s" },
  { case: "text-sample", name: "text model sampling forward (one DDPM step with captions, batch 32)", images: 32, forwardsPerImage: 1, scale: 1, unit: "images/s" },
  { case: "text-onnx-sample", name: "text model sampling forward on ONNX Runtime (the UNet's graph, captions encoded once; batch 32)", images: 32, forwardsPerImage: 1, scale: 1, unit: "images/s" },
];
/**
 * The sampling forwards again with eps from ONNX Runtime (onnxruntime-node, CPU, 2 threads) running
 * the network's ONNX graph (src/lib/onnx); the update stays on the row's TensorFlow.js backend.
 * Against the same PyTorch rows as sample and attention-sample; the DDIM loops against ddim's and attention-ddim's.
 */
const ONNX_CASES: CaseSpec[] = [
  { case: "onnx-sample", name: "sampling forward on ONNX Runtime (one DDPM step, batch 32)", images: 32, forwardsPerImage: 1, scale: 1, unit: "images/s" },
  { case: "attention-onnx-sample", name: "attention UNet sampling forward on ONNX Runtime (one DDPM step, 28x28x1, batch 32)", images: 32, forwardsPerImage: 1, scale: 1, unit: "images/s", countsModelFlops: false },
  { case: "onnx-ddim", name: "DDIM-25 on ONNX Runtime, 32 sprites", images: 32, forwardsPerImage: 25, scale: 1, unit: "sprites/s" },
  { case: "cfg-onnx-ddim", name: "DDIM-25 with classifier-free guidance on ONNX Runtime, 32 sprites (doubled batch)", images: 32, forwardsPerImage: 50, scale: 1, unit: "sprites/s" },
  { case: "attention-onnx-ddim", name: "attention UNet DDIM-25 (of T = 1000) on ONNX Runtime, 32 images", images: 32, forwardsPerImage: 25, scale: 1, unit: "images/s", countsModelFlops: false },
];
const ALL_CASES = [...CASES, ...IMPROVED_DDPM_CASES, ...ATTENTION_CASES, ...ARDM_CASES, ...TEXT_CASES, ...ONNX_CASES];
/** Cases run only when --cases names them: attention-ddim (and its ONNX twin) is 25 of attention-sample's forwards a repetition (minutes a side). */
const NAMED_ONLY = new Set(["attention-ddim", "attention-onnx-ddim"]);
/** The cases the plain-JavaScript cpu backend runs: one sampling forward each (the ONNX ones' forward is not on it at all). */
const CPU_CASES = new Set(["sample", "learned-sample", "attention-sample", "ardm-step", "ardm-conv-step", "text-sample", "text-onnx-sample", "onnx-sample", "attention-onnx-sample", "ardm-onnx-step", "ardm-conv-onnx-step"]);
/** Training steps: no projection from a sampling forward on the cpu backend. */
const TRAINING_CASES = new Set(["train", "hybrid-train", "attention-train", "ardm-train", "ardm-conv-train", "text-train"]);
/** The cpu backend's forward a skipped case's projection scales: the same network's. */
const cpuForwardOf = (benchCase: string) => (benchCase.startsWith("attention-") ? "attention-sample" : "sample");

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const quick = process.argv.includes("--quick");
const rounds = Number(flag("rounds") ?? (quick ? 1 : 2));
const cases = (flag("cases") ?? ALL_CASES.filter((c) => !NAMED_ONLY.has(c.case)).map((c) => c.case).join(",")).split(",");
const backends = (flag("backends") ?? ALL_BACKENDS.join(",")).split(",");
const referenceKind = (flag("reference") ?? "pypi") as ReferenceKind;
if (!REFERENCE_KINDS.includes(referenceKind)) {
  process.stderr.write(`--reference ${referenceKind}: expected one of ${REFERENCE_KINDS.join(", ")}\n`);
  process.exit(2);
}

/** Repetitions per child process (each side, each round). */
function repsFor(benchCase: BenchCase, backend: string): Reps {
  if (backend === "cpu") return benchCase === "matmul" ? { warmup: 1, reps: 2 } : { warmup: 1, reps: quick ? 1 : 2 };
  const slow = backend === "wasm";
  const loop: Reps = quick ? { warmup: 1, reps: 1 } : { warmup: 1, reps: slow ? 1 : 3 };
  const train: Reps = quick ? { warmup: 1, reps: 2 } : { warmup: 2, reps: slow ? 2 : 4 };
  const step: Reps = quick ? { warmup: 2, reps: 4 } : { warmup: 3, reps: 10 };
  const table: Record<BenchCase, Reps> = {
    matmul: quick ? { warmup: 1, reps: 3 } : { warmup: 2, reps: 5 },
    train,
    sample: step,
    ddim: loop,
    ddpm: loop,
    "cfg-ddim": loop,
    "classifier-ddim": loop,
    "classifier-grad": step,
    "hybrid-train": train,
    "learned-sample": step,
    "attention-train": train,
    "attention-sample": step,
    "attention-ddim": loop,
    "ardm-train": train,
    "ardm-step": step,
    "ardm-conv-train": train,
    "ardm-conv-step": step,
    "ardm-onnx-step": step,
    "ardm-conv-onnx-step": step,
    "text-train": train,
    "text-sample": step,
    "text-onnx-sample": step,
    "onnx-sample": step,
    "attention-onnx-sample": step,
    "onnx-ddim": loop,
    "cfg-onnx-ddim": loop,
    "attention-onnx-ddim": loop,
  };
  return table[benchCase];
}

/** Matrix size of the GFLOP/s probe: 2048 (as the reference), 1024 on plain JavaScript. */
const matmulN = (backend: string) => (backend === "cpu" ? 1024 : 2048);

function log(message: string): void {
  process.stderr.write(`${message}\n`);
}

function summary(run: SideRun): string {
  if (run.error) return `FAILED: ${run.error}`;
  const cpu = run.cpu_ms?.length ? `, CPU ${median(run.cpu_ms).toFixed(0)} ms` : "";
  return `median ${median(run.times_ms).toFixed(0)} ms of ${run.times_ms.length}${cpu}, peak RSS ${run.peak_rss_mb.toFixed(0)} MB`;
}

function packageVersion(name: string): string {
  try {
    return (JSON.parse(readFileSync(join(PROJECT_ROOT, "node_modules", name, "package.json"), "utf8")) as { version: string }).version;
  } catch {
    return "not installed";
  }
}

function main(): void {
  const started = Date.now();
  const loadBefore = loadavg();
  if (referenceKind === "pypi") {
    log(
      `PyTorch reference: PyTorch ${pinnedTorchVersion() ?? "?"} from PyPI in ${TORCH_VENV} (scripts/bench-torch-venv.sh makes it on first use: ` +
        "PyPI's Linux torch wheel pulls about 3 GB of NVIDIA CUDA libraries and needs them to import, even on the CPU; " +
        "--reference debian takes Debian's python3-torch 1.13 instead)",
    );
  }
  const prepared = prepareReference(referenceKind);
  const reference = prepared.reference;
  const probed = prepared.error ? { error: prepared.error } : torchVersion(reference);
  const referenceMissing = "error" in probed ? probed.error : null;
  const referenceLabel = "version" in probed ? `PyTorch ${probed.version} (${reference.origin})` : `PyTorch (${reference.origin})`;
  log(referenceMissing ? `PyTorch reference: UNAVAILABLE (${referenceMissing})` : `PyTorch reference: ${referenceLabel}, ${reference.python}`);
  if (loadBefore[0] > cpus().length / 2) {
    log(`warning: load average ${loadBefore[0].toFixed(1)} on ${cpus().length} cores; timings will be noisy and the ratios unfair to whichever side suffers more`);
  }
  const macsPerImage = (referenceMissing ? null : torchMacsPerImage(reference)) ?? DEFAULT_MACS_PER_IMAGE;

  // Sustained GFLOP/s of each side (and which of our backends start at all).
  const matmul = new Map<string, SideRun[]>();
  for (let round = 0; round < rounds; round++) {
    if (!referenceMissing) matmul.set("torch", [...(matmul.get("torch") ?? []), runTorch(reference, "matmul", repsFor("matmul", "torch"))]);
    for (const backend of backends) {
      const run = runOurs(backend, "matmul", repsFor("matmul", backend), matmulN(backend));
      matmul.set(backend, [...(matmul.get(backend) ?? []), run]);
      log(`matmul ${backend}: ${summary(run)}`);
    }
  }
  const gflops = new Map<string, number | null>();
  for (const [side, runs] of matmul) gflops.set(side, matmulGflops(runs, side === "cpu" ? 1024 : 2048));
  const peakGflops = Math.max(0, ...[...gflops.values()].map((g) => g ?? 0)) || null;
  const unavailable = new Map(backends.filter((b) => pool(matmul.get(b)!).error).map((b) => [b, pool(matmul.get(b)!).error!]));

  const runs = new Map<string, SideRun[]>();
  const add = (key: string, run: SideRun) => runs.set(key, [...(runs.get(key) ?? []), run]);
  for (let round = 0; round < rounds; round++) {
    for (const spec of ALL_CASES.filter((c) => cases.includes(c.case))) {
      if (!referenceMissing) {
        const run = runTorch(reference, spec.case, repsFor(spec.case, "torch"));
        add(`${spec.case}/torch`, run);
        log(`round ${round + 1} ${spec.case} torch: ${summary(run)}`);
      }
      for (const backend of backends) {
        if (unavailable.has(backend) || (backend === "cpu" && !CPU_CASES.has(spec.case))) continue;
        const run = runOurs(backend, spec.case, repsFor(spec.case, backend));
        add(`${spec.case}/${backend}`, run);
        log(`round ${round + 1} ${spec.case} ${backend}: ${summary(run)}`);
      }
    }
  }

  const rows: BenchRow[] = [];
  for (const spec of ALL_CASES.filter((c) => cases.includes(c.case))) {
    for (const backend of backends) {
      let skipped: string | undefined;
      if (unavailable.has(backend)) skipped = `backend unavailable: ${unavailable.get(backend)}`;
      else if (backend === "cpu" && !CPU_CASES.has(spec.case)) {
        const cpuForward = pool(runs.get(`${cpuForwardOf(spec.case)}/cpu`) ?? []);
        const step = cpuForward.times.length ? median(cpuForward.times) : null;
        const projection = step && !TRAINING_CASES.has(spec.case) ? `; projected from its sampling forward: ~${((step * spec.forwardsPerImage) / 1000).toFixed(0)} s` : "";
        skipped = `not run: the plain-JavaScript cpu backend is far too slow for this (forward only)${projection}`;
      }
      rows.push(
        makeRow(spec, backend, runs.get(`${spec.case}/${backend}`) ?? [], runs.get(`${spec.case}/torch`) ?? [], {
          macsPerImage,
          peakGflops,
          referenceMissing,
          reference: referenceLabel,
          skipped,
        }),
      );
    }
  }

  const loadAfter = loadavg();
  const preamble = [
    `# npm run bench${quick ? " --quick" : ""}: TensorFlow.js vs PyTorch`,
    "",
    `- date: ${new Date().toISOString()}, ${((Date.now() - started) / 60000).toFixed(1)} min; ${rounds} round(s), sides alternating, medians over all timed repetitions`,
    `- machine: ${cpus()[0]?.model ?? "?"}, ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB; load average ${loadBefore[0].toFixed(2)} before, ${loadAfter[0].toFixed(2)} after (the bench's own 2 threads count in "after")`,
    `- ours: Node ${process.version}, @tensorflow/tfjs-core ${packageVersion("@tensorflow/tfjs-core")}, tfjs-node ${packageVersion("@tensorflow/tfjs-node")}, tfjs-backend-wasm ${packageVersion("@tensorflow/tfjs-backend-wasm")}, onnxruntime-node ${packageVersion("onnxruntime-node")}`,
    `- reference: ${referenceMissing ? `UNAVAILABLE (${referenceMissing})` : `${referenceLabel}: CPU, 2 threads (../shared/bench/contextunet_torch.py, and the twins in bench/ for what it lacks)`}`,
    `- model cost (ContextUnet; the attention UNet's and the ARDM's rows leave the GFLOP/s columns out): ${(macsPerImage / 1e6).toFixed(1)} M multiply-adds = ${((2 * macsPerImage) / 1e9).toFixed(3)} GFLOP per image forward, x3 per image trained`,
    `- sustained GFLOP/s (float32 matmul): ${[...gflops].map(([side, g]) => `${side} ${g === null ? "failed" : g.toFixed(g < 10 ? 1 : 0)}`).join(", ")}${side(matmul)}; share of peak = model GFLOP/s / ${peakGflops?.toFixed(0) ?? "?"}`,
    "- ratio = our time / PyTorch's time (below 1: faster). DDPM-500 times 25 steps and multiplies by 20 (both sides).",
    "- peak RSS: VmHWM of our worker process / ru_maxrss of the Python process, one process per side and case.",
  ];
  // The 1-minute load average after the run counts the bench's own two threads (up to about 2):
  // other work shows as load before it starts, or as more than the cores after.
  if (loadBefore[0] > cpus().length / 2 || loadAfter[0] > cpus().length + 0.5) {
    preamble.push(
      `- **WARNING: the machine was loaded (load average ${loadBefore[0].toFixed(1)} before, ${loadAfter[0].toFixed(1)} after, on ${cpus().length} cores).** ` +
        "PyTorch's OpenMP threads spin-wait and slow down 20-40x under load, TensorFlow's pool far less: these ratios are not comparable; rerun on an idle machine.",
    );
  }
  const outDir = join(PROJECT_ROOT, "bench", "results");
  mkdirSync(outDir, { recursive: true });
  // The second reference's rows go beside the first's, never over them.
  const base = `${flag("name") ?? (quick ? "quick" : "latest")}${referenceKind === "debian" ? "-debian" : ""}`;
  writeFileSync(join(outDir, `${base}.json`), `${JSON.stringify(rows, null, 2)}\n`);
  writeFileSync(join(outDir, `${base}.md`), renderMarkdown(rows, preamble));
  process.stdout.write(`${preamble.join("\n")}\n\n${renderTable(rows)}\n\nwritten: bench/results/${base}.json, bench/results/${base}.md\n`);
}

/** The matrix sizes used, when they differ between sides. */
function side(matmul: Map<string, SideRun[]>): string {
  return matmul.has("cpu") ? " (cpu at n = 1024, the others at 2048)" : "";
}

main();
