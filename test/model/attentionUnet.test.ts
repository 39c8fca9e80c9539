/**
 * The attention UNet's contract: parameter counts (pinned, and by formula), shapes per block,
 * the attention layer against float64 loops, the time embedding's values, gradients, the
 * samplers running it, errors, and no tensor leaks.
 */
import { join, resolve } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, it } from "vitest";
import { attentionUnetConfigOf } from "../../src/lib/config/ddpmConfig";
import { loadDdpmConfig } from "../../src/lib/config/ddpmConfigFile";
import { sampleDdim, sampleDdpm } from "../../src/lib/diffusion/sampling";
import { linearSchedule } from "../../src/lib/diffusion/schedule";
import { resolveArchitecture } from "../../src/lib/model/architecture";
import { ParameterStore } from "../../src/lib/model/parameters";
import {
  type AttentionUnetConfig,
  AttentionUnet,
  REFERENCE_ATTENTION_UNET_CONFIG,
  attentionSpecs,
  blockShapes,
  multiHeadSelfAttention,
  sinusoidalEmbedding,
} from "../../src/lib/model/attentionUnet";
import { useFastestBackend } from "../helpers/backends";

const configFile = (name: string) => attentionUnetConfigOf(loadDdpmConfig(join(resolve(__dirname, "../../configs"), name)));

/** Small enough for seconds on the CPU; both kinds of down block, two layers everywhere, a shortcut in each kind of block. */
const TINY: AttentionUnetConfig = {
  imageSize: 8, imageChannels: 3, downChannels: [8, 16, 16], midChannels: [16, 16], downsample: [true, false], attention: [true, true],
  timeEmbeddingSize: 16, downLayers: 2, midLayers: 2, upLayers: 2, attentionHeads: 2, normGroups: 4, finalChannels: 8,
};

/**
 * Trainable scalars by formula, block by block (another way than summing the variables' sizes):
 * conv k x k cin -> cout: (k^2 cin + 1) cout; linear: (in + 1) out; GroupNorm: 2 C;
 * attention over C: 4 C^2 + 4 C (in_proj 3C x C + 3C, out_proj C x C + C).
 */
function countByFormula(c: AttentionUnetConfig): number {
  const conv = (k: number, cin: number, cout: number) => (k * k * cin + 1) * cout;
  const linear = (din: number, dout: number) => (din + 1) * dout;
  const resnet = (cin: number, cout: number) =>
    2 * cin + conv(3, cin, cout) + linear(c.timeEmbeddingSize, cout) + 2 * cout + conv(3, cout, cout) + (cin === cout ? 0 : conv(1, cin, cout));
  const attention = (ch: number) => 2 * ch + 4 * ch * ch + 4 * ch;
  const pairs = (cin: number, cout: number, layers: number, attends: boolean) =>
    resnet(cin, cout) + (layers - 1) * resnet(cout, cout) + (attends ? layers * attention(cout) : 0);
  const { downs, mids, ups } = blockShapes(c);
  let total = 2 * linear(c.timeEmbeddingSize, c.timeEmbeddingSize) + conv(3, c.imageChannels, c.downChannels[0]);
  for (const b of downs) total += pairs(b.cin, b.cout, b.layers, b.attends) + (b.resample ? conv(4, b.cout, b.cout) : 0);
  for (const b of mids) total += resnet(b.cin, b.cout) + b.layers * (attention(b.cout) + resnet(b.cout, b.cout));
  for (const b of ups) total += (b.resample ? (16 * (b.cin / 2) + 1) * (b.cin / 2) : 0) + pairs(b.cin, b.cout, b.layers, b.attends);
  return total + 2 * c.finalChannels + conv(3, c.finalChannels, c.imageChannels);
}

describe("AttentionUnet", () => {
  beforeAll(async () => {
    await useFastestBackend();
  });

  it("has the pinned parameter counts of the committed configs and the reference's size, as the formula says", () => {
    const pinned: Array<[string, AttentionUnetConfig, number]> = [
      ["configs/mnist.json", configFile("mnist.json"), 1_122_929],
      ["configs/mnist-attention-everywhere.json", configFile("mnist-attention-everywhere.json"), 292_449],
      ["configs/textures.json", configFile("textures.json"), 1_123_795],
      ["configs/mnist-full.json", configFile("mnist-full.json"), 9_865_729],
      ["the tiny config", TINY, 56_003],
      // Less 2 attentions over 16 channels (downs.0) and 2 over 8 (ups.1): 2 * 1,120 + 2 * 304.
      ["the parity test's config (no attention at 8x8)", { ...TINY, attention: [false, true] }, 53_155],
    ];
    expect(configFile("mnist-full.json")).toEqual(REFERENCE_ATTENTION_UNET_CONFIG);
    for (const [name, config, count] of pinned) {
      expect(countByFormula(config), name).toBe(count);
      const model = new AttentionUnet(config);
      expect(model.parameterCount, name).toBe(count);
      model.dispose();
    }
  });

  it("names its weights as the PyTorch twin's state_dict, with a 1x1 shortcut only where a width changes", () => {
    const model = new AttentionUnet(configFile("mnist-attention-everywhere.json"));
    const shape = (key: string) => model.parameters.get(key).shape;
    expect(shape("time_mlp.0.weight")).toEqual([64, 64]);
    expect(shape("conv_in.weight")).toEqual([3, 3, 1, 16]);
    expect(shape("downs.0.resnets.0.shortcut.weight")).toEqual([1, 1, 16, 32]);
    expect(shape("downs.0.attentions.0.attention.in_proj_weight")).toEqual([32, 96]);
    expect(shape("downs.0.attentions.0.attention.out_proj.weight")).toEqual([32, 32]);
    expect(shape("downs.1.downsample.weight")).toEqual([4, 4, 64, 64]);
    expect(shape("ups.0.upsample.weight")).toEqual([32, 4, 4, 32]);
    expect(shape("conv_out.weight")).toEqual([3, 3, 16, 1]);
    expect(model.parameters.keys()).not.toContain("mids.0.resnets.1.shortcut.weight");
    expect(model.parameters.keys()).toContain("mids.0.resnets.0.shortcut.weight");
    model.dispose();
  });

  it("leaves out the attentions of the blocks whose attention flag is false, in both the down and the mirrored up block", () => {
    const model = new AttentionUnet({ ...TINY, attention: [false, true] });
    const attentions = model.parameters.keys().filter((k) => k.includes(".attentions.")).map((k) => k.replace(/\.attentions\.(\d).*$/, ".attentions.$1"));
    // downs.0 (8x8) and ups.1, which mirrors it, lose theirs; downs.1, the mid block and ups.0 keep two each.
    expect([...new Set(attentions)]).toEqual(["downs.1.attentions.0", "downs.1.attentions.1", "mids.0.attentions.0", "mids.0.attentions.1", "ups.0.attentions.0", "ups.0.attentions.1"]);
    const y = tf.tidy(() => model.predictNoise(tf.randomNormal([2, 8, 8, 3], 0, 1, "float32", 3) as tf.Tensor4D, 0.3, null));
    expect(y.shape).toEqual([2, 8, 8, 3]);
    y.dispose();
    model.dispose();
  });

  it("reads a checkpoint's record from before the attention flags as attention in every block", () => {
    const { attention, ...recorded } = { ...TINY };
    const resolved = resolveArchitecture({ name: "AttentionUnet", config: recorded }, "old/manifest.json");
    expect(resolved.config).toEqual({ ...TINY, attention: [true, true] });
    expect(() => resolveArchitecture({ name: "AttentionUnet", config: { ...TINY, attention: [true] } }, "bad/manifest.json")).toThrow(
      /^bad\/manifest\.json: AttentionUnet: attention: needs one flag per down block: 2 for 3 downChannels, got 1\./,
    );
  });

  it("traces every block's output shape: 28 -> 14 -> 7 and back, for the first MNIST config", () => {
    const model = new AttentionUnet(configFile("mnist-attention-everywhere.json"), 1);
    const shapes: Record<string, number[]> = {};
    const before = tf.memory().numTensors;
    const y = tf.tidy(() => model.predictNoise(tf.randomNormal([2, 28, 28, 1], 0, 1, "float32", 1) as tf.Tensor4D, 0.5, null, {
      // The traced tensors live until the enclosing tidy ends: their values can be read here.
      trace: (name, activation) => (shapes[name] = activation.shape) && void activation.dataSync(),
    }));
    expect(shapes).toEqual({
      time_mlp: [2, 64], conv_in: [2, 28, 28, 16], "downs.0": [2, 14, 14, 32], "downs.1": [2, 7, 7, 64],
      "mids.0": [2, 7, 7, 32], "ups.0": [2, 14, 14, 16], "ups.1": [2, 28, 28, 16], out: [2, 28, 28, 1],
    });
    expect(y.shape).toEqual([2, 28, 28, 1]);
    y.dispose();
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  it("keeps the resolution through a block that does not downsample (the reference's layout at 8x8)", () => {
    const model = new AttentionUnet({ ...REFERENCE_ATTENTION_UNET_CONFIG, imageSize: 8 });
    const shapes: Record<string, number[]> = {};
    tf.tidy(() => void model.predictNoise(tf.zeros([1, 8, 8, 1]) as tf.Tensor4D, 0.1, null, { trace: (name, a) => (shapes[name] = a.shape) }));
    expect(shapes).toEqual({
      time_mlp: [1, 128], conv_in: [1, 8, 8, 32], "downs.0": [1, 4, 4, 64], "downs.1": [1, 2, 2, 128], "downs.2": [1, 2, 2, 256],
      "mids.0": [1, 2, 2, 256], "mids.1": [1, 2, 2, 128], "ups.0": [1, 2, 2, 64], "ups.1": [1, 4, 4, 32], "ups.2": [1, 8, 8, 16], out: [1, 8, 8, 1],
    });
    model.dispose();
  });

  it("computes softmax(q k^T / sqrt(d)) v per head as float64 loops do", () => {
    const [n, length, channels, heads] = [2, 5, 6, 3];
    const d = channels / heads;
    const store = new ParameterStore("AttentionTest");
    attentionSpecs("a", channels).forEach((spec, i) => store.create({ ...spec, kind: "linear", fanIn: 1 }, 40 + i)); // biases random too
    const weight = (key: string) => Float64Array.from(store.get(`a.${key}`).dataSync());
    const [inW, inB, outW, outB] = [weight("in_proj_weight"), weight("in_proj_bias"), weight("out_proj.weight"), weight("out_proj.bias")];
    const x = tf.randomNormal([n, length, channels], 0, 1, "float32", 7) as tf.Tensor3D;
    const xs = Float64Array.from(x.dataSync());
    const ours = tf.tidy(() => multiHeadSelfAttention(store, "a", x, heads).dataSync());

    const expected = new Float64Array(n * length * channels);
    for (let b = 0; b < n; b++) {
      // q, k, v [L, C]: x W_in + b_in, W_in [C, 3C] (ours: PyTorch's in_proj_weight transposed), columns q | k | v.
      const project = (part: number) => Array.from({ length }, (_, i) =>
        Array.from({ length: channels }, (_, o) => {
          let s = inB[part * channels + o];
          for (let c = 0; c < channels; c++) s += xs[(b * length + i) * channels + c] * inW[c * 3 * channels + part * channels + o];
          return s;
        }));
      const [q, k, v] = [project(0), project(1), project(2)];
      const merged = Array.from({ length }, () => new Float64Array(channels));
      for (let h = 0; h < heads; h++) {
        for (let i = 0; i < length; i++) {
          const scores = Array.from({ length }, (_, j) => {
            let s = 0;
            for (let e = 0; e < d; e++) s += q[i][h * d + e] * k[j][h * d + e];
            return s / Math.sqrt(d);
          });
          const top = Math.max(...scores);
          const weights = scores.map((s) => Math.exp(s - top));
          const total = weights.reduce((a, w) => a + w, 0);
          for (let j = 0; j < length; j++) for (let e = 0; e < d; e++) merged[i][h * d + e] += (weights[j] / total) * v[j][h * d + e];
        }
      }
      for (let i = 0; i < length; i++) {
        for (let o = 0; o < channels; o++) {
          let s = outB[o];
          for (let c = 0; c < channels; c++) s += merged[i][c] * outW[c * channels + o];
          expected[(b * length + i) * channels + o] = s;
        }
      }
    }
    let worst = 0;
    expected.forEach((value, i) => (worst = Math.max(worst, Math.abs(value - ours[i]))));
    expect(worst).toBeLessThan(1e-5);
    x.dispose();
    store.dispose();
  });

  it("embeds t / T as sinusoids of 1000 t / T", () => {
    const embedding = tf.tidy(() => sinusoidalEmbedding(tf.tensor1d([0, 0.5]), 4).arraySync());
    expect(embedding[0]).toEqual([0, 0, 1, 1]);
    // omega = [1, 10000^(-1/2)] = [1, 0.01]; s = 500.
    const expected = [Math.sin(500), Math.sin(5), Math.cos(500), Math.cos(5)];
    embedding[1].forEach((value, i) => expect(value).toBeCloseTo(expected[i], 4));
  });

  it("sends a gradient to every trainable variable and ignores the context", () => {
    const model = new AttentionUnet(TINY, 2);
    tf.tidy(() => {
      const x = tf.randomNormal([3, 8, 8, 3], 0, 1, "float32", 3) as tf.Tensor4D;
      const t = tf.tensor1d([0.1, 0.5, 0.9]);
      const { grads } = tf.variableGrads(() => tf.mean(tf.square(model.forwardTraining(x, t, null).predNoise)) as tf.Scalar, model.trainableVariables());
      for (const key of model.parameters.keys()) {
        const g = grads[model.parameters.get(key).name];
        expect(g, key).toBeDefined();
        expect(tf.max(tf.abs(g)).dataSync()[0], key).toBeGreaterThan(0);
      }
      const same = tf.max(tf.abs(tf.sub(model.predictNoise(x, t, null), model.predictNoise(x, t, tf.ones([3, 5]) as tf.Tensor2D)))).dataSync()[0];
      expect(same).toBe(0);
      const otherTime = tf.max(tf.abs(tf.sub(model.predictNoise(x, t, null), model.predictNoise(x, 0.3, null)))).dataSync()[0];
      expect(otherTime).toBeGreaterThan(1e-3);
      expect(model.forwardTraining(x, t, null).statUpdates).toEqual([]);
    });
    model.dispose();
  });

  it("runs in the library's samplers (DDIM and respaced DDPM, T = 1000) as a NoiseModel", async () => {
    const model = new AttentionUnet(TINY, 3);
    const schedule = linearSchedule({ T: 1000, betaStart: 1e-4, betaEnd: 0.02 });
    const start = { count: 2, seed: 5, imageShape: [8, 8, 3] as [number, number, number] };
    const before = tf.memory().numTensors;
    for (const run of [
      () => sampleDdim(model, schedule, start, null, { steps: 4, saveFrame: () => false }),
      () => sampleDdpm(model, schedule, start, null, { steps: 5, saveFrame: () => false }),
    ]) {
      const { samples, frames, completed } = await run();
      expect(completed).toBe(true);
      expect(samples.shape).toEqual([2, 8, 8, 3]);
      expect(frames).toBeNull();
      expect(samples.dataSync().every(Number.isFinite)).toBe(true);
      samples.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  it("loads its own weights back to the same output", async () => {
    const [a, b] = [new AttentionUnet(TINY, 4), new AttentionUnet(TINY, 5)];
    b.setWeights(await a.getWeights());
    const difference = tf.tidy(() => {
      const x = tf.randomNormal([2, 8, 8, 3], 0, 1, "float32", 6) as tf.Tensor4D;
      return tf.max(tf.abs(tf.sub(a.predictNoise(x, 0.4, null), b.predictNoise(x, 0.4, null)))).dataSync()[0];
    });
    expect(difference).toBe(0);
    a.dispose();
    b.dispose();
  });

  it("explains bad input and a bad configuration", () => {
    const model = new AttentionUnet(TINY);
    tf.tidy(() => {
      expect(() => model.predictNoise(tf.zeros([2, 3, 8, 8]) as tf.Tensor4D, 0.5, null)).toThrow(/\[2,3,8,8\].*expected \[N, 8, 8, 3\].*looks NCHW/);
      expect(() => model.predictNoise(tf.zeros([2, 8, 8, 3]) as tf.Tensor4D, tf.tensor1d([0.5]), null)).toThrow(/1 values for a batch of 2/);
      expect(() => model.predictNoise(tf.zeros([2, 8, 8, 3]) as tf.Tensor4D, NaN, null)).toThrow(/t\/T must be finite/);
    });
    expect(() => new AttentionUnet({ ...TINY, normGroups: 3 })).toThrow(/^AttentionUnet: downChannels\[0\]: 8 channels do not split into normGroups = 3/);
    expect(() => new AttentionUnet({ ...TINY, imageSize: 9 })).toThrow(/^AttentionUnet: imageSize: 9 is not divisible by 2/);
    expect(() => model.setWeights({})).toThrow(/missing weight "time_mlp.0.weight"/);
    model.dispose();
  });

  it("leaks no tensor across repeated forwards, training steps and models", () => {
    const x = tf.randomNormal([2, 8, 8, 3], 0, 1, "float32", 8) as tf.Tensor4D;
    const t = tf.tensor1d([0.2, 0.7]);
    const model = new AttentionUnet(TINY, 6);
    const round = () => {
      tf.dispose(model.predictNoise(x, t, null));
      tf.dispose(model.predictNoise(x, 0.5, null));
      const { predNoise } = model.forwardTraining(x, t, null);
      predNoise.dispose();
      const { value, grads } = tf.variableGrads(() => tf.mean(tf.square(model.forwardTraining(x, t, null).predNoise)) as tf.Scalar, model.trainableVariables());
      tf.dispose([value, ...Object.values(grads)]);
    };
    round(); // warm-up: kernels' and constants' one-time tensors
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) round();
    expect(tf.memory().numTensors).toBe(before);
    const variables = model.parameters.keys().length;
    model.dispose();
    for (let i = 0; i < 2; i++) new AttentionUnet(TINY, i).dispose();
    expect(tf.memory().numTensors).toBe(before - variables);
    tf.dispose([x, t]);
  });
});
