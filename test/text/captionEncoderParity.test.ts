/**
 * The caption encoder against its PyTorch twin (bench/caption_encoder_torch.py) on the same weights
 * (ours, sent in PyTorch's layouts by state_dict name) and the same token ids: the pooled
 * embeddings, the context vectors, the MSE loss to a target and that loss's gradient with respect
 * to every weight. The twin pools with an embedding lookup and a mask, the library with word counts
 * and a matrix product: the comparison checks the one against the other.
 *
 * The measure is max |ours - twin| / max |twin| per tensor (../model/attentionUnetParity.test.ts
 * says why); the twin also runs in float64 to show what float32 itself loses.
 */
import { resolve } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { toTorchLayout } from "../../src/lib/model/torchLayout";
import { CaptionEncoder, type CaptionEncoderConfig, TOKEN_EMBEDDING_KEY } from "../../src/lib/text/captionEncoder";
import { WordTokenizer } from "../../src/lib/text/tokenizer";
import { useTestBackend } from "../helpers/backends";
import { relativeError } from "../helpers/relativeError";
import { torchUnavailable } from "../helpers/torchReference";
import { runTwinDump } from "../helpers/twinDump";

const TWIN = resolve(__dirname, "../../bench/caption_encoder_torch.py");
const unavailable = torchUnavailable();
if (unavailable && process.env.CI) throw new Error(`PyTorch reference needed in CI: ${unavailable}`);

const tokenizer = new WordTokenizer(["a", "an", "and", "bat", "crown", "green", "in", "orange", "red", "slime", "with", "yellow"]);
/** Seconds to run; the sprites' default is E = 64, H = 128, 32 outputs over 154 ids. */
const CONFIG: CaptionEncoderConfig = { vocabularySize: tokenizer.size, maxTokens: 8, embeddingWidth: 16, hiddenWidth: 24, contextSize: 10 };
/** Every length from the empty caption to a full one, an unknown word, and a repeated word. */
const CAPTIONS = ["", "slime", "a red bat", "an orange slime with a crown", "a bat in red and yellow", "a green dragon", "red red red red red red red red"];

interface TwinIo {
  pooled: number[];
  out: number[];
  loss: number;
  params: number;
  grads: Record<string, number[]>;
}

describe.skipIf(unavailable !== null)(`CaptionEncoder matches its PyTorch twin (${unavailable ?? "reference present"})`, () => {
  let io: TwinIo;
  let io64: TwinIo;
  let encoder: CaptionEncoder;
  let ids: tf.Tensor2D;
  let target: tf.Tensor2D;

  beforeAll(async () => {
    await useTestBackend();
    encoder = new CaptionEncoder(CONFIG, 7);
    // Give the pad row values (PyTorch's padding_idx only zeroes it at the start): both sides must ignore it, and <unk>'s row.
    const weights = await encoder.getWeights();
    weights[TOKEN_EMBEDDING_KEY].data.fill(0.75, 0, CONFIG.embeddingWidth);
    encoder.setWeights(weights);
    const tokenIds = tokenizer.encodeBatch(CAPTIONS, CONFIG.maxTokens, { unknown: "unk" });
    ids = tf.tensor2d(Float32Array.from(tokenIds), [CAPTIONS.length, CONFIG.maxTokens]);
    target = tf.randomNormal([CAPTIONS.length, CONFIG.contextSize], 0, 1, "float32", 11) as tf.Tensor2D;

    const inputs = { token_ids: ids.arraySync(), target: Array.from(target.dataSync()) };
    ({ float32: io, float64: io64 } = runTwinDump<TwinIo>(TWIN, encoder.parameters, weights, JSON.stringify(CONFIG), inputs));
  });

  afterAll(() => {
    encoder?.dispose();
    tf.dispose([ids, target]);
  });

  it("has the twin's parameter count", () => {
    expect(io.params).toBe(encoder.parameterCount);
  });

  it("gives the pooled embeddings and the context vectors to 1e-4 of their scale", () => {
    const [pooled, out] = tf.tidy(() => [encoder.pooledEmbedding(ids).dataSync(), encoder.encode(ids).dataSync()]);
    const errors = { pooled: relativeError(pooled, io.pooled), out: relativeError(out, io.out) };
    console.info(
      `[caption-encoder parity] ${tf.getBackend()} pooled ${errors.pooled.toExponential(2)}, out ${errors.out.toExponential(2)}; ` +
        `against float64: ours ${relativeError(out, io64.out).toExponential(2)}, the twin's float32 ${relativeError(io.out, io64.out).toExponential(2)}`,
    );
    expect(errors.pooled).toBeLessThan(1e-4);
    expect(errors.out).toBeLessThan(1e-4);
    // The empty caption pools to zero on both sides.
    expect(Array.from(pooled.slice(0, CONFIG.embeddingWidth))).toEqual(new Array(CONFIG.embeddingWidth).fill(0));
    expect(io.pooled.slice(0, CONFIG.embeddingWidth).every((v) => v === 0)).toBe(true);
  });

  it("gives the MSE loss and its gradient for every weight to 1e-4 of the gradient's scale", () => {
    const { value, grads } = tf.variableGrads(() => tf.mean(tf.squaredDifference(encoder.encode(ids), target)) as tf.Scalar, encoder.trainableVariables());
    const loss = value.dataSync()[0];
    expect(Math.abs(loss - io.loss) / io.loss).toBeLessThan(1e-5);
    const errors: Array<[string, number, number]> = encoder.parameters.keys().map((key) => {
      const grad = grads[encoder.parameters.get(key).name];
      const ours = toTorchLayout(encoder.parameters.spec(key).kind, grad.shape, grad.dataSync());
      return [key, relativeError(ours, io.grads[key]), relativeError(ours, io64.grads[key])];
    });
    expect(errors.map(([key]) => key).sort()).toEqual(Object.keys(io.grads).sort());
    console.info(
      `[caption-encoder parity] ${tf.getBackend()} loss ${loss} (twin ${io.loss}); gradients ${errors.map(([k, e]) => `${k} ${e.toExponential(2)}`).join(", ")}; ` +
        `against float64: ours at most ${Math.max(...errors.map((e) => e[2])).toExponential(2)}`,
    );
    for (const [key, error] of errors) expect(error, key).toBeLessThan(1e-4);
    // The pad and <unk> rows learn nothing on either side (both masked out of the mean; "a green dragon" has an <unk>).
    const E = CONFIG.embeddingWidth;
    const reservedRows = grads[encoder.parameters.get(TOKEN_EMBEDDING_KEY).name].dataSync().slice(0, 2 * E);
    expect(Array.from(reservedRows).every((v) => v === 0)).toBe(true);
    expect(io.grads[TOKEN_EMBEDDING_KEY].slice(0, 2 * E).every((v) => v === 0)).toBe(true);
    tf.dispose([value, ...Object.values(grads)]);
  });
});
