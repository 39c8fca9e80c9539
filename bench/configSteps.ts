/**
 * Our training step of the attention UNet under several config files, in one process and one run,
 * rounds alternating between the configs so that every config sees the same machine: which layout
 * buys its parameters cheapest. Ours only (the twin's rows are `npm run bench`'s attention-train).
 *
 *   npm run bench:configs -- configs/mnist-attention-everywhere.json configs/mnist.json [--rounds 3] [--reps 3] [--name attention-unet-configs]
 *
 * Writes bench/results/<name>.md and .json: per config its parameters, the median step at the
 * config's batch with min-max, and the step's time relative to the first config's.
 */
import { writeFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { join } from "node:path";
import { attentionUnetConfigOf } from "../src/lib/config/ddpmConfig";
import { describeBackend, initBackend } from "../src/lib/backend";
import { AttentionUnet } from "../src/lib/model/attentionUnet/attentionUnet";
import { median } from "./report";
import { PROJECT_ROOT } from "./sides";
import { attentionConfig, timeAttentionTraining } from "./twinNetworks";

function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

async function main(): Promise<void> {
  const files = process.argv.slice(2).filter((a, i, all) => !a.startsWith("--") && !all[i - 1]?.startsWith("--"));
  if (files.length === 0) throw new Error("Name the config files to compare, e.g. npm run bench:configs -- configs/mnist-attention-everywhere.json configs/mnist.json");
  const rounds = Number(flag("rounds", "3"));
  const reps = Number(flag("reps", "3"));
  const name = flag("name", "attention-unet-configs");
  const backend = await initBackend();
  const loadBefore = loadavg()[0];
  const started = Date.now();
  const times = new Map<string, number[]>(files.map((f) => [f, []]));
  for (let round = 0; round < rounds; round++) {
    for (const file of files) {
      const { times: t } = await timeAttentionTraining(1, reps, attentionConfig(file).training.batchSize, file);
      times.get(file)!.push(...t);
      console.log(`round ${round + 1}/${rounds} ${file}: ${t.map((x) => x.toFixed(0)).join(", ")} ms`);
    }
  }
  const loadAfter = loadavg()[0];
  const rows = files.map((file) => {
    const config = attentionConfig(file);
    const model = new AttentionUnet(attentionUnetConfigOf(config), 0);
    const parameters = model.parameterCount;
    model.dispose();
    const t = times.get(file)!;
    return { file, parameters, attention: config.model.attention, downChannels: config.model.downChannels, batch: config.training.batchSize, medianMs: median(t), minMs: Math.min(...t), maxMs: Math.max(...t), n: t.length };
  });
  const base = rows[0].medianMs;
  const markdown = [
    "# npm run bench:configs: one attention UNet training step per config file",
    "",
    `- date: ${new Date(started).toISOString()}, ${((Date.now() - started) / 60000).toFixed(1)} min; ${rounds} rounds alternating the configs, ${reps} timed steps each after one warm-up step`,
    `- machine: ${cpus()[0]?.model ?? "?"}, ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB; load average ${loadBefore.toFixed(2)} before, ${loadAfter.toFixed(2)} after${Math.max(loadBefore, loadAfter) > cpus().length / 2 ? " (loaded: compare the configs' ratio, not the times)" : ""}`,
    `- ours: ${describeBackend(backend)}, TF_NUM_INTRAOP_THREADS=${process.env.TF_NUM_INTRAOP_THREADS ?? "(default)"}`,
    `- command: npm run bench:configs -- ${process.argv.slice(2).join(" ")}`,
    "",
    "| config | parameters | down widths | attention per down block | batch | step (median, min-max) | relative to the first |",
    "|---|---:|---|---|---:|---|---:|",
    ...rows.map((r) => `| ${r.file} | ${r.parameters.toLocaleString("en-US")} | [${r.downChannels.join(", ")}] | [${r.attention.join(", ")}] | ${r.batch} | ${r.medianMs.toFixed(0)} ms (${r.minMs.toFixed(0)}-${r.maxMs.toFixed(0)}, n=${r.n}) | ${(r.medianMs / base).toFixed(2)} |`),
    "",
  ].join("\n");
  const out = join(PROJECT_ROOT, "bench/results", name);
  writeFileSync(`${out}.md`, markdown);
  writeFileSync(`${out}.json`, `${JSON.stringify({ date: new Date(started).toISOString(), loadBefore, loadAfter, backend: backend.name, rows }, null, 1)}\n`);
  console.log(markdown);
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
