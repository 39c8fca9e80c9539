/**
 * Per-kernel profile of one training step (batch 100: forward, loss, backward, Adam) on a
 * backend: `npx tsx bench/profile.ts [--backend tensorflow] [--batch 100] [--top 30]`.
 * Compare with `.venv-torch/bin/python ../shared/bench/contextunet_torch.py profile --mode train` (PyPI's torch,
 * the bench's reference; `/usr/bin/python3` for Debian's 1.13).
 * `--config configs/mnist.json` profiles the attention UNet's training step of that config instead
 * (the trainer's own step, at the config's batch unless --batch is given; train mode only).
 */
import * as tf from "@tensorflow/tfjs-core";
import { initBackend } from "../src/lib/backend";
import { courseSchedule } from "../src/lib/diffusion/schedule";
import { oneHotContexts } from "../src/lib/data/dataset";
import { ContextUnet } from "../src/lib/model/contextUnet";
import { type RunningStatUpdate, commitStatUpdates } from "../src/lib/model/layers";
import { Adam } from "../src/lib/train/adam";
import { diffusionLoss } from "../src/lib/train/diffusionLoss";
import { ddpmTrainer } from "../src/lib/train/ddpmRun";
import { fixedData, syntheticBatch } from "./timing";
import { attentionConfig } from "./twinNetworks";

function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

async function main(): Promise<void> {
  const backend = await initBackend(flag("backend", "tensorflow"));
  const batch = Number(flag("batch", "100"));
  const top = Number(flag("top", "30"));
  const mode = flag("mode", "train");
  const byShape = process.argv.includes("--by-shape");
  const configFile = flag("config", "");
  if (configFile) return profileConfigTraining(configFile, flag("batch", ""), Number(flag("reps", "3")), top, byShape);
  const model = new ContextUnet({}, 0);
  const adam = new Adam(model.trainableParameters());
  const x0 = tf.randomUniform([batch, 16, 16, 3], -1, 1, "float32", 1) as tf.Tensor4D;
  const context = oneHotContexts(Array.from({ length: batch }, (_, i) => i % 5));
  const t = Int32Array.from({ length: batch }, (_, i) => 1 + ((i * 37) % 500));
  const noise = tf.randomNormal([batch, 16, 16, 3], 0, 1, "float32", 2) as tf.Tensor4D;
  const step = () => {
    if (mode === "sample") {
      tf.tidy(() => model.predictNoise(x0, 0.5, context).dataSync());
      return;
    }
    let statUpdates: RunningStatUpdate[] = [];
    const { value, grads } = tf.variableGrads(() => {
      const { loss, statUpdates: updates } = diffusionLoss(model, courseSchedule, x0, context, { t, noise });
      statUpdates = updates;
      return loss;
    }, model.trainableVariables());
    value.dataSync();
    value.dispose();
    commitStatUpdates(statUpdates);
    adam.apply(grads, 1e-3);
    tf.dispose(Object.values(grads));
  };
  const reps = Number(flag("reps", "3"));
  const profile = startProfile(reps, byShape);
  for (let i = 0; i < 2; i++) step();
  profile.start();
  for (let i = 0; i < reps; i++) step();
  profile.report(`${backend.name} ${mode} batch ${batch}`, top);
  tf.dispose([x0, context, noise]);
  adam.dispose();
  model.dispose();
}

/** The attention UNet's training step of `file` (ddpmTrainer on one fixed synthetic batch), profiled. */
async function profileConfigTraining(file: string, batchFlag: string, reps: number, top: number, byShape: boolean): Promise<void> {
  const config = attentionConfig(file);
  const batch = batchFlag ? Number(batchFlag) : config.training.batchSize;
  const { imageSize, channels } = config.dataset;
  const fixed = syntheticBatch(batch, 7, [imageSize, imageSize, channels], 10);
  const warmup = 2;
  const trainer = ddpmTrainer({ ...config, training: { ...config.training, batchSize: batch, epochs: 1 } }, fixedData(fixed, warmup + reps));
  const profile = startProfile(reps, byShape);
  await trainer.run({ onStep: ({ globalStep }) => (globalStep === warmup ? profile.start() : undefined) });
  profile.report(`${tf.getBackend()} train ${file} batch ${batch}`, top);
  trainer.dispose();
  trainer.model.dispose();
  tf.dispose([fixed.images, fixed.labels]);
}

/**
 * Wraps the native backend's op calls once start() is called: per op, the process CPU time and
 * the wall time across the call, averaged over `reps` steps; report() prints the table.
 */
function startProfile(reps: number, byShape: boolean) {
  const byOp = new Map<string, { cpu: number; wall: number; count: number }>();
  const native = tf.backend() as unknown as Record<string, unknown>;
  const wrapped = ["executeSingleOutput", "executeMultipleOutputs"].filter((m) => typeof native[m] === "function");
  let c0 = process.cpuUsage();
  let t0 = performance.now();
  const start = () => {
    // Ops run synchronously on the tensorflow backend: the process CPU time across one call is
    // that op's cost on all TensorFlow threads, robust to other load on the machine.
    for (const method of wrapped) {
      const original = native[method] as (...a: unknown[]) => unknown;
      native[method] = (...args: unknown[]) => {
        const c = process.cpuUsage();
        const t = performance.now();
        const out = original.apply(native, args);
        const used = process.cpuUsage(c);
        const inputs = args[2] as Array<{ shape?: number[] }>;
        const key = byShape ? `${args[0]} [${inputs.map((x) => x.shape?.join("x") ?? "?").join(", ")}]` : (args[0] as string);
        const entry = byOp.get(key) ?? { cpu: 0, wall: 0, count: 0 };
        entry.cpu += (used.user + used.system) / 1000 / reps;
        entry.wall += (performance.now() - t) / reps;
        entry.count += 1 / reps;
        byOp.set(key, entry);
        return out;
      };
    }
    c0 = process.cpuUsage();
    t0 = performance.now();
  };
  const report = (title: string, top: number) => {
    const wall = (performance.now() - t0) / reps;
    const cpuUsed = process.cpuUsage(c0);
    const cpu = (cpuUsed.user + cpuUsed.system) / 1000 / reps;
    for (const method of wrapped) delete native[method];
    const opCpu = [...byOp.values()].reduce((sum, e) => sum + e.cpu, 0);
    const opCount = [...byOp.values()].reduce((sum, e) => sum + e.count, 0);
    console.log(
      `${title}: ${wall.toFixed(0)} ms wall, ${cpu.toFixed(0)} ms CPU per step; ` +
        `${opCount.toFixed(0)} TF ops using ${opCpu.toFixed(0)} ms CPU, the rest (JS, tape, allocation) ${(cpu - opCpu).toFixed(0)} ms`,
    );
    const rows = [...byOp.entries()].sort((a, b) => b[1].cpu - a[1].cpu).slice(0, top);
    for (const [name, e] of rows) {
      console.log(
        `${name.padEnd(byShape ? 60 : 28)} ${e.cpu.toFixed(1).padStart(8)} ms CPU ${((100 * e.cpu) / cpu).toFixed(1).padStart(5)} %` +
          `${e.wall.toFixed(1).padStart(9)} ms wall  x${e.count.toFixed(0)}`,
      );
    }
  };
  return { start, report };
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
