/**
 * Embedding arithmetic: prompt vectors are the encoder's outputs, mixes are weighted sums, the
 * nearest captions are those at the smallest Euclidean distance (checked against a float64
 * recomputation), and the vector model draws what the text model draws for the same caption,
 * with the zero context as the empty caption under guidance. Tiny sizes: seconds on cpu.
 */
import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, it } from "vitest";
import { withClassifierFreeGuidance } from "../../src/lib/guidance/classifierFreeGuidance";
import { CaptionIndex, VectorContextModel, mixVectors, promptVectors } from "../../src/lib/text/promptVectors";
import { TextContextUnet, type TextContextUnetOptions } from "../../src/lib/text/textContextUnet";
import { useTestBackend } from "../helpers/backends";

const TINY: TextContextUnetOptions = {
  vocabulary: ["a", "bat", "crown", "green", "red", "slime", "with"],
  encoder: { maxTokens: 6, embeddingWidth: 8, hiddenWidth: 12, contextSize: 5 },
  unet: { nFeat: 8, height: 8 },
};
const CAPTIONS = ["a green slime", "a red bat", "a red slime with a crown", "green bat", "a green slime"];
const maxDiff = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
const rows = (t: tf.Tensor2D) => t.arraySync();

beforeAll(async () => {
  await useTestBackend();
});

describe("prompt vectors", () => {
  it("are the encoder's context vectors of the prompts' token ids, and unknown words are named", () => {
    const model = new TextContextUnet(TINY, 3);
    const vectors = promptVectors(model, ["a red bat", ""]);
    const ids = model.captionContexts(["a red bat", ""]);
    const encoded = model.encoder.encode(ids);
    expect(vectors.shape).toEqual([2, 5]);
    expect(maxDiff(vectors, encoded)).toBe(0);
    expect(() => promptVectors(model, ["a blue bat"])).toThrow("blue");
    tf.dispose([vectors, ids, encoded]);
    model.dispose();
  });

  it("mix as weighted sums (closed form per row), and a row with the wrong number of weights is refused", () => {
    const vectors = tf.tensor2d([[1, 2, 3], [10, 20, 30]]);
    const mixed = mixVectors(vectors, [[0.5, 0.5], [1, 0], [0.25, 0.75], [2, -1]]);
    expect(rows(mixed)).toEqual([[5.5, 11, 16.5], [1, 2, 3], [7.75, 15.5, 23.25], [-8, -16, -24]]);
    expect(() => mixVectors(vectors, [[1, 0, 0]])).toThrow("weight row 0 is [1,0,0]; each row needs 2 finite weights");
    expect(() => mixVectors(vectors, [[0.5, 0.5], [NaN, 1]])).toThrow("weight row 1");
    tf.dispose([vectors, mixed]);
  });
});

describe("CaptionIndex", () => {
  it("finds the nearest captions by Euclidean distance, as a float64 recomputation ranks them", () => {
    const model = new TextContextUnet(TINY, 5);
    const index = new CaptionIndex(model, CAPTIONS, 2); // batches of 2: the concatenation is covered
    expect(index.captions).toEqual(["a green slime", "a red bat", "a red slime with a crown", "green bat"]);
    const captionVectors = tf.tidy(() => rows(promptVectors(model, index.captions)));
    // Not the midpoint [0.5, 0.5]: it is equally far from its two ends, a tie either order reads.
    const queries = tf.tidy(() => mixVectors(promptVectors(model, ["a green slime", "a red bat"]), [[1, 0], [0.35, 0.65], [0.1, 0.9]]));
    const found = index.nearest(queries, 4);
    rows(queries).forEach((query, q) => {
      const exact = captionVectors
        .map((vector, j) => ({ caption: index.captions[j], distance: Math.sqrt(vector.reduce((sum, v, i) => sum + (query[i] - v) ** 2, 0)) }))
        .sort((a, b) => a.distance - b.distance);
      expect(found[q].map((near) => near.caption)).toEqual(exact.map((near) => near.caption));
      found[q].forEach((near, j) => expect(near.distance).toBeCloseTo(exact[j].distance, 4));
    });
    // A caption's own vector is nearest itself, at distance ~0.
    expect(found[0][0].caption).toBe("a green slime");
    expect(found[0][0].distance).toBeLessThan(1e-3);
    expect(index.nearest(queries, 99)[0]).toHaveLength(4);
    expect(() => index.nearest(tf.zeros([1, 3]) as tf.Tensor2D)).toThrow("vectors have width 3, the model's context vectors 5");
    queries.dispose();
    index.dispose();
    model.dispose();
  });
});

describe("VectorContextModel", () => {
  it("draws what the text model draws for a caption's vector; zero and null contexts are the empty caption; guidance works on it", () => {
    const model = new TextContextUnet(TINY, 7);
    const vectorModel = new VectorContextModel(model);
    const x = tf.randomNormal([3, 8, 8, 3], 0, 1, "float32", 11) as tf.Tensor4D;
    const captions = ["a red bat", "green bat", ""];
    const ids = model.captionContexts(captions);
    const contexts = tf.tidy(() => vectorModel.contextOf(promptVectors(model, captions)));
    // The empty caption's offset is exactly zero.
    expect(Array.from(contexts.slice([2, 0], [1, 5]).dataSync()).every((v) => Math.abs(v) < 1e-7)).toBe(true);
    const byText = model.predictNoise(x, 0.4, ids);
    const byVector = vectorModel.predictNoise(x, 0.4, contexts);
    expect(maxDiff(byText, byVector)).toBeLessThan(1e-5);
    const emptyByText = model.predictNoise(x, 0.4, null);
    const emptyByVector = vectorModel.predictNoise(x, 0.4, null);
    const zeroByVector = vectorModel.predictNoise(x, 0.4, tf.zeros([3, 5]) as tf.Tensor2D);
    expect(maxDiff(emptyByText, emptyByVector)).toBeLessThan(1e-5);
    expect(maxDiff(emptyByText, zeroByVector)).toBeLessThan(1e-5);
    // Classifier-free guidance contrasts with the zero row: the same as guiding the text model.
    const guidedText = withClassifierFreeGuidance(model, 2).predictNoise(x, 0.4, ids);
    const guidedVector = withClassifierFreeGuidance(vectorModel, 2).predictNoise(x, 0.4, contexts);
    expect(maxDiff(guidedText, guidedVector)).toBeLessThan(1e-4);
    expect(() => vectorModel.predictNoise(x, 0.4, ids)).toThrow("context has shape [3,6], expected [3, 5]");
    tf.dispose([x, ids, contexts, byText, byVector, emptyByText, emptyByVector, zeroByVector, guidedText, guidedVector]);
    vectorModel.dispose();
    model.dispose();
  });

  it("leaks no tensors across repeated mixes, lookups and predictions", () => {
    const model = new TextContextUnet(TINY, 9);
    const vectorModel = new VectorContextModel(model);
    const index = new CaptionIndex(model, CAPTIONS);
    const x = tf.randomNormal([2, 8, 8, 3], 0, 1, "float32", 13) as tf.Tensor4D;
    const round = () => {
      const vectors = promptVectors(model, ["a green slime", "a red bat"]);
      const mixed = mixVectors(vectors, [[0.5, 0.5], [0.2, 0.8]]);
      index.nearest(mixed, 2);
      const context = vectorModel.contextOf(mixed);
      tf.dispose([vectors, mixed, context, vectorModel.predictNoise(x, 0.5, context)]);
    };
    round();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) round();
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
    index.dispose();
    vectorModel.dispose();
    model.dispose();
  });
});
