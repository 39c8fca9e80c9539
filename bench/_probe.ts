import * as tf from "@tensorflow/tfjs-core";
import { initBackend } from "../src/lib/backend";
import { ContextUnet } from "../src/lib/model/contextUnet";
import { Trainer } from "../src/lib/train/trainer";
async function main() {
  console.log(await initBackend(process.argv[2]));
  const model = new ContextUnet({}, 0);
  const n = 100;
  const images = new Float32Array(n * 768).map(() => Math.random() * 2 - 1);
  const labels = new Float32Array(n * 5); for (let i = 0; i < n; i++) labels[i * 5 + (i % 5)] = 1;
  const data = { count: n * 6, batch: (idx: Int32Array) => ({ images: tf.tensor4d(images, [n, 16, 16, 3]), labels: tf.tensor2d(labels, [n, 5]) }) };
  const trainer = new Trainer(model, data, { epochs: 1, batchSize: n, useContext: true });
  let last = performance.now();
  await trainer.run({ onStep: () => { const now = performance.now(); console.log("step ms", (now - last).toFixed(0), tf.memory().numTensors); last = now; } });
  const f = process.memoryUsage(); console.log("rss", f.rss / 1e6);
  const st = require("fs").readFileSync("/proc/self/status", "utf8").match(/VmHWM:\s+(\d+)/)[1]; console.log("hwm MB", +st / 1024);
}
main();
