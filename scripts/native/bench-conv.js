// Times a 3x3 conv2d, x [100,16,16,64] * w [3,3,64,64] ('same'), forward and forward+gradients
// (tf.grads of sum(conv^2) w.r.t. x and w), on the backends named on the command line.
// Run from the project root: node scripts/native/bench-conv.js tensorflow cpu
// Prints per backend: median ms of forward, of forward+backward, and the process's thread count.
"use strict";
process.env.TF_CPP_MIN_LOG_LEVEL = process.env.TF_CPP_MIN_LOG_LEVEL || "2";
const fs = require("fs");
const path = require("path");
const projectRequire = require("module").createRequire(path.join(process.cwd(), "package.json"));
const tf = projectRequire("@tensorflow/tfjs-core");
projectRequire("@tensorflow/tfjs-backend-cpu");

const backends = process.argv.slice(2).length ? process.argv.slice(2) : ["tensorflow"];
if (backends.includes("tensorflow")) projectRequire("@tensorflow/tfjs-node");
if (backends.includes("wasm")) projectRequire("@tensorflow/tfjs-backend-wasm");

const threadCount = () => fs.readdirSync("/proc/self/task").length;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function timeIt(fn, reps) {
  const times = [];
  for (let i = 0; i < reps; i++) {
    const start = process.hrtime.bigint();
    tf.tidy(() => {
      const outs = fn();
      (Array.isArray(outs) ? outs : [outs]).forEach((t) => t.dataSync()); // wait for the result
    });
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  return times;
}

async function main() {
  for (const backend of backends) {
    await tf.setBackend(backend);
    await tf.ready();
    const x = tf.randomNormal([100, 16, 16, 64], 0, 1, "float32", 1);
    const w = tf.randomNormal([3, 3, 64, 64], 0, 0.05, "float32", 2);
    const forward = () => tf.conv2d(x, w, 1, "same");
    const lossGrads = tf.grads((a, b) => tf.conv2d(a, b, 1, "same").square().sum());
    const both = () => lossGrads([x, w]);
    const reps = backend === "cpu" ? 1 : 10;
    timeIt(forward, 1); // warm-up: kernel set-up, oneDNN primitive creation
    timeIt(both, 1);
    const fwd = timeIt(forward, reps);
    const fb = timeIt(both, reps);
    console.log(
      `${backend}: forward ${median(fwd).toFixed(1)} ms, forward+grads ${median(fb).toFixed(1)} ms ` +
        `(median of ${reps}), threads in process ${threadCount()}, tensors alive ${tf.memory().numTensors}`,
    );
    x.dispose();
    w.dispose();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
