import * as tf from "@tensorflow/tfjs-core";
import { readFileSync } from "node:fs";
import { initBackend } from "../src/lib/backend";
import { ContextUnet } from "../src/lib/model/contextUnet";
import { Trainer } from "../src/lib/train/trainer";
const mem = (label: string) => { const s = readFileSync("/proc/self/status", "utf8"); console.log(label, "RSS", +/VmRSS:\s+(\d+)/.exec(s)![1] >> 10, "HWM", +/VmHWM:\s+(\d+)/.exec(s)![1] >> 10, "tf bytes", (tf.memory().numBytes / 2 ** 20).toFixed(0)); };
async function main() {
  await initBackend("tensorflow"); mem("backend");
  const model = new ContextUnet({}, 0); mem("model");
  const n = 100;
  const images = new Float32Array(n * 768).map(() => Math.random() * 2 - 1);
  const labels = new Float32Array(n * 5); for (let i = 0; i < n; i++) labels[i * 5 + (i % 5)] = 1;
  const data = { count: n * 4, batch: () => ({ images: tf.tensor4d(images, [n, 16, 16, 3]), labels: tf.tensor2d(labels, [n, 5]) }) };
  const trainer = new Trainer(model, data, { epochs: 1, batchSize: n, useContext: true });
  await trainer.run({ onStep: ({ globalStep }) => mem(`step ${globalStep}`) });
}
main();
