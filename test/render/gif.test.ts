import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { beforeAll, describe, expect, it } from "vitest";
import { captionBandHeight, renderGif } from "../../src/lib/render";
import { coloursIn, decodeImage, parseGif, pixelAt } from "./imageBytes";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

/** [F, N, H, W, 3] where frame f, sample n is solid colour colours[f][n]. */
function solidFrames(colours: number[][][], height: number, width: number): tf.Tensor5D {
  const values = colours.flatMap((frame) => frame.flatMap((rgb) => Array.from({ length: height * width }, () => rgb).flat()));
  return tf.tensor5d(values, [colours.length, colours[0].length, height, width, 3]);
}

describe("renderGif", () => {
  it("writes one frame per denoising frame, each a grid of the N samples, at 5 fps looping forever", () => {
    // F = 6 frames of N = 4 samples 16 x 16; rows 2 -> 2 x 2 grid of 64 px cells, gutter 2.
    const frames = tf.randomNormal([6, 4, 16, 16, 3], 0, 1, "float32", 1) as tf.Tensor5D;
    const gif = parseGif(renderGif(frames, { rows: 2 }));
    expect([gif.width, gif.height]).toEqual([2 * 64 + 2, 2 * 64 + 2]);
    expect(gif.frames).toHaveLength(6);
    for (const frame of gif.frames) expect([frame.left, frame.top, frame.width, frame.height]).toEqual([0, 0, 130, 130]);
    expect(gif.frames.map((frame) => frame.delayCs)).toEqual([20, 20, 20, 20, 20, 20]); // 1 / 5 s
    expect(gif.loopCount).toBe(0); // NETSCAPE2.0 loop count 0 = forever
    frames.dispose();
  });

  it("holds the last frame, honours fps and can play once", () => {
    const frames = tf.zeros([3, 1, 2, 2, 3]) as tf.Tensor5D;
    const gif = parseGif(renderGif(frames, { fps: 10, holdLastSeconds: 1.5, loop: false }));
    expect(gif.frames.map((frame) => frame.delayCs)).toEqual([10, 10, 160]);
    expect(gif.loopCount).toBeNull();
    frames.dispose();
  });

  it("stretches each image per channel by default (minmax) and keeps exact colours of few-colour frames", async () => {
    // One sample 1 x 2: R in {-0.2, 0.2}, G in {0.1, 0.3}, B constant 0.5 (falls back to clip: 191).
    const frame = [-0.2, 0.1, 0.5, 0.2, 0.3, 0.5];
    const frames = tf.tensor5d([...frame, ...frame.map((v) => -v)], [2, 1, 1, 2, 3]);
    const bytes = renderGif(frames, { scale: 1 });
    const first = await decodeImage(bytes); // Skia decodes the first frame
    expect([pixelAt(first, 0, 0), pixelAt(first, 1, 0)]).toEqual([
      [0, 0, 191, 255],
      [255, 255, 191, 255],
    ]);
    expect(parseGif(bytes).frames[1].palette.slice(0, 2)).toEqual([
      [255, 255, 64], // frame 1 is the negation: R, G flip, B = -0.5 -> clip 64
      [0, 0, 64],
    ]);
    const clipped = await decodeImage(renderGif(frames, { scale: 1, normalization: "clip" }));
    expect(pixelAt(clipped, 0, 0)).toEqual([102, 140, 191, 255]);
    frames.dispose();
  });

  it("lays the samples out in reading order with rows/cols, and titles each frame with its caption", async () => {
    const red = [1, -1, -1];
    const blue = [-1, -1, 1];
    const frames = solidFrames([[red, blue, red], [blue, red, blue]], 2, 2);
    const band = captionBandHeight(12);
    const bytes = renderGif(frames, { cols: 3, scale: 2, gutter: 1, frameCaptions: ["t=500", "t=0"], normalization: "clip" });
    const gif = parseGif(bytes);
    expect([gif.width, gif.height]).toEqual([3 * 4 + 2, band + 4]);
    const first = await decodeImage(bytes);
    expect(pixelAt(first, 0, band)).toEqual([255, 0, 0, 255]);
    expect(pixelAt(first, 5, band)).toEqual([0, 0, 255, 255]);
    expect(pixelAt(first, 10, band + 3)).toEqual([255, 0, 0, 255]);
    expect(coloursIn(first, 0, 0, 14, band).size).toBeGreaterThan(1); // the caption "t=500"
    frames.dispose();
  });

  it("checks its input and leaves no tensors", () => {
    const batch = tf.zeros([2, 4, 4, 3]) as unknown as tf.Tensor5D;
    const frames = tf.zeros([2, 1, 4, 4, 3]) as tf.Tensor5D;
    const nan = tf.fill([2, 1, 1, 1, 3], NaN) as tf.Tensor5D;
    expect(() => renderGif(batch)).toThrow(/expected \[F, N, H, W, C\] \(NHWC\), got rank 4/);
    expect(() => renderGif(nan)).toThrow(/image 0, pixel \(y=0, x=0\), channel 0 is NaN/);
    expect(() => renderGif(frames, { fps: 0 })).toThrow(/fps must be in \(0, 50\], got 0/);
    expect(() => renderGif(frames, { frameCaptions: ["one"] })).toThrow(/1 entries for 2 frames/);
    const before = tf.memory().numTensors;
    renderGif(frames);
    expect(tf.memory().numTensors).toBe(before);
    expect(frames.isDisposed).toBe(false);
    tf.dispose([batch, frames, nan]);
  });
});
