/**
 * The ARDM transformer (src/lib/ardm/transformer.ts) against its PyTorch twin (bench/ardm_torch.py)
 * on the same weights (ours, sent in PyTorch's layouts by state_dict name), the same x and masks:
 * the logits, Eq. 4's loss (orderAgnosticLoss) and its gradient for every weight, each to 1e-4 of
 * the tensor's scale (max |ours - twin| / max |twin|, as test/model/attentionUnetParity.test.ts
 * explains). The twin also runs in float64 to show what float32 itself loses. Without the twin's
 * torch (or ../shared), only the parity block is skipped; the model's own checks always run.
 */
import { execFileSync } from "node:child_process";
import { resolve } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { orderAgnosticLoss } from "../../src/lib/ardm/loss";
import { ARDM_SPRITE_TRANSFORMER, ArdmTransformer, type ArdmTransformerConfig } from "../../src/lib/ardm/transformer";
import { toTorchLayout } from "../../src/lib/model/torchLayout";
import { D, GIVEN, type TwinIo, moveOnesAndZeros, tinyBatch } from "./parityInputs";
import { useFastestBackend, useTestBackend } from "../helpers/backends";
import { relativeError } from "../helpers/relativeError";
import { torchUnavailable } from "../helpers/torchReference";
import { TWIN_ENV, TWIN_PYTHON, runTwinDump } from "../helpers/twinDump";

const TWIN = resolve(__dirname, "../../bench/ardm_torch.py");
const unavailable = torchUnavailable();
if (unavailable && process.env.CI) throw new Error(`PyTorch reference needed in CI: ${unavailable}`);

/** Seconds to run: 4x4 RGB (D = 48), K = 256, width 16, 2 blocks of 2 heads. */
const TINY: ArdmTransformerConfig = { height: 4, width: 4, channels: 3, categories: 256, modelWidth: 16, layers: 2, heads: 2, mlpRatio: 4 };


describe("ArdmTransformer on its own", () => {
  beforeAll(async () => {
    await useTestBackend();
  });

  it("has 1,023,872 parameters for the sprites (16x16x3, K = 256, width 128, 4 blocks of 4 heads)", () => {
    const model = new ArdmTransformer(ARDM_SPRITE_TRANSFORMER);
    expect(model.dimensions).toBe(768);
    expect(model.categories).toBe(256);
    expect(model.parameterCount).toBe(1_023_872);
    model.dispose();
  });

  it("answers [N, D, K] float32 logits, variable = position * C + channel", () => {
    const model = new ArdmTransformer(TINY, 1);
    const { x, mask } = tinyBatch(5);
    const logits = model.logits(x, mask);
    expect(logits.shape).toEqual([3, D, 256]);
    expect(logits.dtype).toBe("float32");
    tf.dispose([x, mask, logits]);
    model.dispose();
  });

  it("never sees a masked variable's value: changing it changes no logit; changing a given one does", () => {
    const model = new ArdmTransformer(TINY, 2);
    const { x, mask } = tinyBatch(6);
    const [changedHidden, changedGiven] = tf.tidy(() => {
      const hidden = tf.sub(1, mask);
      const shifted = tf.cast(tf.mod(tf.add(x, 97), TINY.categories), "int32");
      // Every hidden value replaced, given values kept; then one given value changed as well.
      const hiddenOnly = tf.add(tf.mul(x, tf.cast(mask, "int32")), tf.mul(shifted, tf.cast(hidden, "int32"))) as tf.Tensor2D;
      const first = tf.argMax(tf.reshape(mask, [-1])).dataSync()[0];
      const oneGiven = tf.add(hiddenOnly, tf.mul(tf.oneHot(tf.tensor1d([first], "int32"), GIVEN.length * D).reshape([GIVEN.length, D]), 5)) as tf.Tensor2D;
      const base = model.logits(x, mask);
      return [tf.max(tf.abs(tf.sub(model.logits(hiddenOnly, mask), base))).dataSync()[0], tf.max(tf.abs(tf.sub(model.logits(oneGiven, mask), base))).dataSync()[0]];
    });
    expect(changedHidden).toBe(0);
    expect(changedGiven).toBeGreaterThan(1e-3);
    tf.dispose([x, mask]);
    model.dispose();
  });

  it("keeps tf.memory flat across repeated forward and gradient passes", () => {
    const model = new ArdmTransformer(TINY, 3);
    const { x, mask } = tinyBatch(7);
    const step = () => {
      const { value, grads } = tf.variableGrads(() => orderAgnosticLoss(model.logits(x, mask), x, mask).mean);
      tf.dispose([value, ...Object.values(grads)]);
    };
    step();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) step();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, mask]);
    model.dispose();
  });

  it("rejects bad configs and inputs with the value seen and what to do", () => {
    expect(() => new ArdmTransformer({ ...TINY, heads: 3 })).toThrow(/modelWidth 16 is not divisible by config\.heads 3/);
    expect(() => new ArdmTransformer({ ...TINY, layers: 0 })).toThrow(/config\.layers is 0, but it must be an integer >= 1/);
    expect(() => new ArdmTransformer({ ...TINY, categories: 1 })).toThrow(/config\.categories is 1, but it must be an integer >= 2/);
    expect(() => new ArdmTransformer({ ...TINY, mlpRatio: 1.5 })).toThrow(/config\.mlpRatio is 1\.5/);
    expect(() => new ArdmTransformer({ ...TINY, depth: 2 } as ArdmTransformerConfig)).toThrow(/unknown config key "depth"/);
    const model = new ArdmTransformer(TINY);
    const x = tf.zeros([2, 47], "int32") as tf.Tensor2D;
    const mask = tf.zeros([2, 47]) as tf.Tensor2D;
    expect(() => model.logits(x, mask)).toThrow(/x has shape \[2,47\].*must be \[N, 48\].*position \* 3 \+ channel/);
    tf.dispose([x, mask]);
    model.dispose();
  });
});

describe.skipIf(unavailable !== null)(`ArdmTransformer matches its PyTorch twin (${unavailable ?? "reference present"})`, () => {
  let io: TwinIo;
  let io64: TwinIo;
  let model: ArdmTransformer;
  let x: tf.Tensor2D;
  let mask: tf.Tensor2D;

  beforeAll(async () => {
    if (process.env.SPRITE_DIFFUSION_TEST_BACKEND) await useTestBackend();
    else await useFastestBackend();
    model = new ArdmTransformer(TINY, 7);
    // LayerNorm scales and shifts and the attention biases start at 1 and 0: move them, so that a
    // mix-up among them (or a transposed one) shows. The embeddings are already N(0, 1) draws.
    const weights = await moveOnesAndZeros(model);
    ({ x, mask } = tinyBatch(11));

    const inputs = { x: Array.from(x.dataSync()), mask: Array.from(mask.dataSync()) };
    ({ float32: io, float64: io64 } = runTwinDump<TwinIo>(TWIN, model.parameters, weights, JSON.stringify(TINY), inputs));
  });

  afterAll(() => {
    model?.dispose();
    tf.dispose([x, mask]);
  });

  it("has the twin's parameter count, here and for the sprites", () => {
    expect(io.params).toBe(model.parameterCount);
    const printed = execFileSync(TWIN_PYTHON, [TWIN, "params"], { env: TWIN_ENV });
    expect(JSON.parse(printed.toString()).params).toBe(1_023_872);
  });

  it("gives the logits to 1e-4 of their scale", () => {
    const logits = model.logits(x, mask);
    const ours = logits.dataSync();
    logits.dispose();
    const error = relativeError(ours, io.logits);
    console.info(`[ardm parity] ${tf.getBackend()} logits ${error.toExponential(2)}; against the twin in float64: ours ${relativeError(ours, io64.logits).toExponential(2)}, the twin's float32 ${relativeError(io.logits, io64.logits).toExponential(2)}`);
    expect(error).toBeLessThan(1e-4);
  });

  it("gives Eq. 4's loss and its gradient for every weight to 1e-4 of the gradient's scale", () => {
    const { value, grads } = tf.variableGrads(() => orderAgnosticLoss(model.logits(x, mask), x, mask).mean);
    const loss = value.dataSync()[0];
    expect(Math.abs(loss - io.loss) / io.loss).toBeLessThan(1e-5);
    const errors: Array<[string, number, number]> = [];
    for (const key of model.parameters.keys()) {
      const grad = grads[model.parameters.get(key).name];
      const ours = toTorchLayout(model.parameters.spec(key).kind, grad.shape, grad.dataSync());
      errors.push([key, relativeError(ours, io.grads[key]), relativeError(ours, io64.grads[key])]);
    }
    expect(errors.map(([key]) => key).sort()).toEqual(Object.keys(io.grads).sort());
    const worst = errors.reduce((a, b) => (b[1] > a[1] ? b : a));
    const worstTwin = Math.max(...Object.keys(io.grads).map((key) => relativeError(io.grads[key], io64.grads[key])));
    console.info(
      `[ardm parity] ${tf.getBackend()} loss ${loss} (twin ${io.loss}); ${errors.length} gradients, worst ${worst[0]} ${worst[1].toExponential(2)}; ` +
        `against float64: ours at most ${Math.max(...errors.map((e) => e[2])).toExponential(2)}, the twin's float32 at most ${worstTwin.toExponential(2)}`,
    );
    for (const [key, error] of errors) expect(error, key).toBeLessThan(1e-4);
    tf.dispose([value, ...Object.values(grads)]);
  });
});
