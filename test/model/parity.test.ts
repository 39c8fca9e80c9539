/**
 * ContextUnet against the PyTorch reference on the same weights: outputs in inference and
 * training mode, the loss, and gradients of a fixed loss, to 1e-4.
 */
import * as tf from "@tensorflow/tfjs-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ContextUnet } from "../../src/lib/model/contextUnet";
import { type RunningStatUpdate, discardStatUpdates } from "../../src/lib/model/layers";
import { permute, toTorchLayout, weightsFromTorch } from "../../src/lib/model/torchLayout";
import { normRelativeError, relativeError } from "../helpers/relativeError";
import { useFastestBackend } from "../helpers/backends";
import { type TorchDump, loadTorchDump, torchUnavailable } from "../helpers/torchReference";

const unavailable = torchUnavailable();
if (unavailable && process.env.CI) throw new Error(`PyTorch reference needed in CI: ${unavailable}`);



describe.skipIf(unavailable !== null)(`ContextUnet matches PyTorch (${unavailable ?? "reference present"})`, () => {
  let dump: TorchDump;
  let model: ContextUnet;
  let x: tf.Tensor4D;
  let t: tf.Tensor1D;
  let c: tf.Tensor2D;

  beforeAll(async () => {
    await useFastestBackend();
    dump = loadTorchDump();
    model = new ContextUnet();
    model.setWeights(weightsFromTorch(model.parameters, dump.weights));
    const n = dump.io.t.length;
    // The reference's x is NCHW; ours is NHWC.
    x = tf.tensor4d(permute(dump.io.x, [n, 3, 16, 16], [0, 2, 3, 1]), [n, 16, 16, 3]);
    t = tf.tensor1d(dump.io.t);
    c = tf.tensor2d(dump.io.c, [n, 5]);
  });

  afterAll(() => {
    model?.dispose();
    tf.dispose([x, t, c]);
  });

  const toNchw = (y: tf.Tensor4D) => permute(y.dataSync(), y.shape, [0, 3, 1, 2]);

  it("has the reference's parameter count", () => {
    expect(model.parameterCount).toBe(dump.io.params);
  });

  it("agrees in inference mode (BatchNorm running statistics)", () => {
    const y = model.predictNoise(x, t, c);
    expect(relativeError(toNchw(y), dump.io.y_eval)).toBeLessThan(1e-4);
    y.dispose();
  });

  it("agrees in training mode (batch statistics), loss and gradients", () => {
    const training = model.forwardTraining(x, t, c);
    expect(relativeError(toNchw(training.predNoise), dump.io.y_train)).toBeLessThan(1e-4);
    training.predNoise.dispose();
    discardStatUpdates(training.statUpdates);
    let statUpdates: RunningStatUpdate[] = [];
    const { value, grads } = tf.variableGrads(() => {
      const out = model.forwardTraining(x, t, c);
      statUpdates = out.statUpdates;
      return tf.losses.meanSquaredError(x, out.predNoise) as tf.Scalar;
    });
    discardStatUpdates(statUpdates);
    expect(Math.abs(value.dataSync()[0] - dump.io.loss) / dump.io.loss).toBeLessThan(1e-4);
    const errors: Record<string, number> = {};
    const byName = new Map(model.parameters.keys().map((k) => [model.parameters.get(k).name, k]));
    for (const [key, reference] of Object.entries(dump.io.grads)) {
      const variableName = model.parameters.get(key).name;
      const grad = grads[variableName];
      expect(grad, `gradient for ${key} (${byName.get(variableName)})`).toBeDefined();
      const spec = model.parameters.spec(key);
      const torchOrder = toTorchLayout(spec.kind, grad.shape, grad.dataSync()).slice(0, reference.length);
      errors[key] = normRelativeError(torchOrder, reference);
      console.info(`[parity] ${tf.getBackend()} ${key}: norm-relative ${errors[key].toExponential(2)}, max-relative ${relativeError(torchOrder, reference).toExponential(2)}`);
    }
    // On cpu every gradient agrees to < 1e-5 (measured: 2.7e-6 for init_conv.conv1.0.weight).
    // Native TensorFlow's (oneDNN) filter gradients of the convolutions that feed a BatchNorm
    // differ by ~1.8e-4: those gradients are sums with heavy cancellation (BatchNorm makes the
    // incoming gradient mean-zero per channel), so float32 summation order shows. Every other
    // gradient there agrees to < 1e-5; the bound for those two kinds is 3e-4 on native.
    for (const [key, error] of Object.entries(errors)) {
      const feedsBatchNorm = /conv[12]\.0\.weight$/.test(key);
      const bound = tf.getBackend() === "tensorflow" && feedsBatchNorm ? 3e-4 : 1e-4;
      expect(error, key).toBeLessThan(bound);
    }
    tf.dispose([value, ...Object.values(grads)]);
  });
});
