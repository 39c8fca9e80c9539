import * as tf from "@tensorflow/tfjs-core";
import { initBackend } from "../src/lib/backend";
import { courseSchedule } from "../src/lib/diffusion/schedule";
import { ContextUnet } from "../src/lib/model/contextUnet";
import { diffusionLoss } from "../src/lib/train/diffusionLoss";
async function main() {
  await initBackend("tensorflow");
  const model = new ContextUnet({}, 0);
  const x0 = tf.randomUniform([100, 16, 16, 3], -1, 1) as tf.Tensor4D;
  const noise = tf.randomNormal([100, 16, 16, 3]) as tf.Tensor4D;
  const t = Int32Array.from({ length: 100 }, (_, i) => 1 + i * 4);
  const step = () => { const { value, grads } = tf.variableGrads(() => diffusionLoss(model, courseSchedule, x0, null, { t, noise }), model.trainableVariables()); tf.dispose([value, ...Object.values(grads)]); };
  step();
  let peakFwd = 0;
  const p = await tf.profile(() => { tf.tidy(() => { const y = model.predictNoise(x0, 0.5, null, { training: true }); peakFwd = tf.memory().numBytes; return y.sum(); }); });
  console.log("forward-only (taped? no) live bytes at end of forward MB", (peakFwd / 2 ** 20).toFixed(0));
  const q = await tf.profile(step);
  console.log("train step peak MB", (q.peakBytes / 2 ** 20).toFixed(0), "kernels", q.kernels.length);
  // largest live moment: find kernel with max totalBytesSnapshot
  let best = q.kernels[0]; for (const k of q.kernels) if (k.totalBytesSnapshot > best.totalBytesSnapshot) best = k;
  console.log("peak at kernel", best.name, best.outputShapes);
}
main();
