/**
 * Textual inversion's measure: the nearest-neighbour share against hand-placed features (exact
 * counts, ties to the real sprites), the prompt with the word left out, and the sprite bytes as
 * the models take them.
 */
import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, it } from "vitest";
import { nearestKindShare, spritesFromBytes, withoutToken } from "../../src/lib/metrics/inversionMatch";
import { useTestBackend } from "../helpers/backends";

beforeAll(async () => {
  await useTestBackend();
});

describe("nearestKindShare", () => {
  it("counts the features whose nearest reference is a new-kind one, a tie going to the real sprites", () => {
    // 2-d features: new-kind references around (10, 10), real ones around the origin.
    const references = { newKind: Float32Array.from([10, 10, 12, 9]), others: Float32Array.from([0, 0, 1, -1, -2, 3]), featureSize: 2 };
    // (9, 9) and (11, 11): new kind; (0.5, 0.5): real; (5, 5) is 50 from (10, 10) and 50 from (0, 0): a tie, real.
    expect(nearestKindShare(Float32Array.from([9, 9, 11, 11, 0.5, 0.5, 5, 5]), references)).toBe(0.5);
    expect(nearestKindShare(Float32Array.from([12, 9]), references)).toBe(1);
    expect(() => nearestKindShare(Float32Array.from([1, 2, 3]), references)).toThrow("3 values are not whole rows of 2 features");
  });
});

describe("withoutToken", () => {
  it("takes the learnt word out and keeps the rest in order", () => {
    expect(withoutToken("a <robot> with a shield", "<robot>")).toBe("a with a shield");
    expect(withoutToken("<robot>", "<robot>")).toBe("");
    expect(withoutToken("a red  <robot>", "<robot>")).toBe("a red");
  });
});

describe("spritesFromBytes", () => {
  it("maps 0..255 to [-1, 1] as the sprite set's loader does, and refuses a wrong length", async () => {
    const bytes = new Uint8Array(16 * 16 * 3);
    bytes[0] = 255;
    bytes[1] = 127;
    const sprites = spritesFromBytes(bytes, 1);
    const values = await sprites.data();
    sprites.dispose();
    expect(values[0]).toBe(1);
    expect(values[1]).toBeCloseTo(127 / 127.5 - 1, 6);
    expect(values[2]).toBe(-1);
    expect(() => spritesFromBytes(bytes, 2)).toThrow("768 bytes is not 2 sprites of 16 x 16 x 3");
    expect(tf.memory().numTensors).toBe(0);
  });
});
