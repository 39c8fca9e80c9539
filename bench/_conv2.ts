import * as tf from "@tensorflow/tfjs-core";
import { initBackend } from "../src/lib/backend";
async function main() {
  await initBackend("tensorflow");
  const be = tf.backend() as any;
  const B = be.binding;
  const T = { name: "T", type: B.TF_ATTR_TYPE, value: B.TF_FLOAT };
  const x = tf.randomNormal([100, 16, 16, 64]) as tf.Tensor4D;
  const dy = tf.randomNormal([100, 16, 16, 64]) as tf.Tensor4D;
  const w = tf.randomNormal([3, 3, 64, 64]) as tf.Tensor4D;
  const sizes = tf.tensor1d([3, 3, 64, 64], "int32");
  const time = (name: string, f: () => tf.Tensor) => {
    for (let i = 0; i < 2; i++) f().dispose();
    const c0 = process.cpuUsage(); const t0 = performance.now();
    for (let i = 0; i < 8; i++) f().dispose();
    const c = process.cpuUsage(c0); const ms = (performance.now() - t0) / 8;
    console.log(name.padEnd(14), "wall", ms.toFixed(1), "cpu", ((c.user + c.system) / 8000).toFixed(1));
  };
  const convAttrs = [T, { name: "strides", type: B.TF_ATTR_INT, value: [1, 1, 1, 1] }, { name: "padding", type: B.TF_ATTR_STRING, value: "SAME" },
    { name: "data_format", type: B.TF_ATTR_STRING, value: "NHWC" }, { name: "use_cudnn_on_gpu", type: B.TF_ATTR_BOOL, value: true }, { name: "dilations", type: B.TF_ATTR_INT, value: [1, 1, 1, 1] }];
  time("conv fwd", () => be.executeSingleOutput("Conv2D", convAttrs, [x, w]));
  time("bpFilter", () => be.executeSingleOutput("Conv2DBackpropFilter", convAttrs, [x, sizes, dy]));
  const patchAttrs = [{ name: "ksizes", type: B.TF_ATTR_INT, value: [1, 3, 3, 1] }, { name: "strides", type: B.TF_ATTR_INT, value: [1, 1, 1, 1] },
    { name: "rates", type: B.TF_ATTR_INT, value: [1, 1, 1, 1] }, { name: "padding", type: B.TF_ATTR_STRING, value: "SAME" }, T];
  time("patches", () => be.executeSingleOutput("ExtractImagePatches", patchAttrs, [x]));
  time("im2col dW", () => tf.tidy(() => {
    const p = be.executeSingleOutput("ExtractImagePatches", patchAttrs, [x]);
    return tf.matMul(tf.reshape(p, [25600, 576]), tf.reshape(dy, [25600, 64]), true, false);
  }));
  // check equal
  const a = be.executeSingleOutput("Conv2DBackpropFilter", convAttrs, [x, sizes, dy]);
  const b = tf.tidy(() => tf.reshape(tf.matMul(tf.reshape(be.executeSingleOutput("ExtractImagePatches", patchAttrs, [x]), [25600, 576]), tf.reshape(dy, [25600, 64]), true, false), [3, 3, 64, 64]));
  console.log("max diff", tf.max(tf.abs(tf.sub(a, b))).dataSync()[0], "scale", tf.max(tf.abs(a)).dataSync()[0]);
}
main();
