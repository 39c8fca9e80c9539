// Loads @tensorflow/tfjs-node from the project root and checks it numerically against the cpu
// backend: conv2d forward and both gradients (tf.grads), plus the ops the model relies on
// (erf, conv2dTranspose, maxPool gradient, moments). Exits 0 and prints "ok ..." when all agree,
// otherwise prints the first mismatch and exits 1. Run: node scripts/native/verify.js
"use strict";
process.env.TF_CPP_MIN_LOG_LEVEL = process.env.TF_CPP_MIN_LOG_LEVEL || "2";
const path = require("path");
const projectRequire = require("module").createRequire(path.join(process.cwd(), "package.json"));

const tfn = projectRequire("@tensorflow/tfjs-node");
const tf = projectRequire("@tensorflow/tfjs-core");
projectRequire("@tensorflow/tfjs-backend-cpu");

function fail(message) {
  console.log(`verify failed: ${message}`);
  process.exit(1);
}

if (tfn.engine() !== tf.engine()) {
  fail("@tensorflow/tfjs-node uses another @tensorflow/tfjs-core instance than the project (nested copy in node_modules)");
}

// Each case returns a list of tensors computed on the current backend from fixed inputs.
const cases = {
  conv2dForwardAndGrads() {
    const x = tf.randomUniform([2, 8, 8, 4], -1, 1, "float32", 1);
    const w = tf.randomUniform([3, 3, 4, 5], -1, 1, "float32", 2);
    const loss = (a, b) => tf.conv2d(a, b, 1, "same").square().sum();
    return [tf.conv2d(x, w, 1, "same"), ...tf.grads(loss)([x, w])];
  },
  erf() {
    return [tf.erf(tf.linspace(-3, 3, 13))];
  },
  conv2dTranspose() {
    const x = tf.randomUniform([1, 4, 4, 3], -1, 1, "float32", 3);
    const w = tf.randomUniform([2, 2, 5, 3], -1, 1, "float32", 4);
    return [tf.conv2dTranspose(x, w, [1, 8, 8, 5], 2, "same")];
  },
  maxPoolGrad() {
    const x = tf.randomUniform([1, 6, 6, 2], -1, 1, "float32", 5);
    return [tf.grad((a) => tf.maxPool(a, 2, 2, "valid").sum())(x)];
  },
  moments() {
    const x = tf.randomUniform([4, 3, 3, 2], -1, 1, "float32", 6);
    const { mean, variance } = tf.moments(x, [0, 1, 2]);
    return [mean, variance];
  },
};

async function runAll(backend) {
  if (!(await tf.setBackend(backend))) fail(`backend ${backend} could not be set`);
  const out = {};
  for (const [name, fn] of Object.entries(cases)) {
    out[name] = tf.tidy(fn).map((t) => {
      const v = t.dataSync().slice();
      t.dispose();
      return v;
    });
  }
  return out;
}

async function main() {
  const native = await runAll("tensorflow");
  const reference = await runAll("cpu");
  for (const name of Object.keys(cases)) {
    native[name].forEach((values, i) => {
      const ref = reference[name][i];
      // |native - cpu| <= 1e-4 * (1 + |cpu|): float32 round-off of differently ordered sums.
      for (let k = 0; k < ref.length; k++) {
        if (!(Math.abs(values[k] - ref[k]) <= 1e-4 * (1 + Math.abs(ref[k])))) {
          fail(`${name} output ${i} element ${k}: tensorflow ${values[k]} vs cpu ${ref[k]}`);
        }
      }
    });
  }
  await tf.setBackend("tensorflow");
  console.log(`ok: backend tensorflow (libtensorflow ${tf.backend().binding.TF_Version}) matches cpu on ${Object.keys(cases).join(", ")}`);
}

main().catch((error) => fail(error && error.message ? error.message : String(error)));
