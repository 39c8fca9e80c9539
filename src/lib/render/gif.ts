/**
 * Animated GIF of denoising frames: one GIF frame per saved sampler frame, each a grid of the N
 * samples at that step (laid out as a 4-D batch in grid.ts: reading order, `rows`/`cols`).
 *
 * The default normalisation is "minmax", as in the course's animations: early frames are mostly
 * noise with values far outside [-1, 1], and stretching each image's channels shows their
 * structure. Every frame is normalised on its own, so brightness is not comparable across
 * frames; pass `normalization: "clip"` to see absolute values.
 *
 * Encoding uses gifenc (mattdesl). A frame with at most 256 distinct colours (flat images,
 * clean sprites) is stored losslessly with its exact colours; otherwise gifenc's PnnQuant
 * quantizer picks a 256-colour palette for that frame. Loops forever by default.
 */
import * as tf from "@tensorflow/tfjs-core";
import { GIFEncoder, applyPalette, quantize, type GifPalette } from "gifenc";
import { planBatchGrid, readImageStack, resolveGridStyle, type GridOptions } from "./grid";
import { paintGrid } from "./layout";
import { normalizeToRgbBytes } from "./normalize";

type SharedGridOptions = "rows" | "cols" | "scale" | "gutter" | "gutterColor" | "background" | "captionFontPx" | "captionColor";

/** Options of `renderGif`; every default is listed here. Grid fields as in `GridOptions`. */
export interface GifOptions extends Pick<GridOptions, SharedGridOptions> {
  /** "minmax" (default, the course's animations) or "clip". */
  normalization?: GridOptions["normalization"];
  /** Frames per second, at most 50 (GIF delays are whole centiseconds). Default 5. */
  fps?: number;
  /** Extra seconds the last frame stays before the loop restarts. Default 0. */
  holdLastSeconds?: number;
  /** Loop forever (true, default) or play once. */
  loop?: boolean;
  /** One caption per frame, above the grid (e.g. "t=500"). Adds a caption band. */
  frameCaptions?: readonly string[];
  /** One caption per sample, below its cell, the same in every frame. Adds a band per row. */
  cellCaptions?: readonly string[];
}

/** Most colours a GIF frame's palette can hold. */
const GIF_PALETTE_SIZE = 256;

/**
 * Renders a [F, N, H, W, C] stack (frames x batch, C = 3 or 1) as an animated GIF and returns
 * its bytes. The tensor is read once (dataSync) and never disposed; no tensors are created.
 */
export function renderGif(frames: tf.Tensor5D, options: GifOptions = {}): Buffer {
  const what = "renderGif";
  const stack = readImageStack(frames, what, [5]);
  const frameCount = stack.frames as number;
  const fps = options.fps ?? 5;
  const holdLastSeconds = options.holdLastSeconds ?? 0;
  if (!(fps > 0 && fps <= 50)) throw new Error(`${what}: fps must be in (0, 50], got ${fps}.`);
  if (!(holdLastSeconds >= 0 && Number.isFinite(holdLastSeconds))) {
    throw new Error(`${what}: holdLastSeconds must be a finite number >= 0, got ${holdLastSeconds}.`);
  }
  const frameCaptions = options.frameCaptions;
  if (frameCaptions !== undefined && frameCaptions.length !== frameCount) {
    throw new Error(`${what}: frameCaptions has ${frameCaptions.length} entries for ${frameCount} frames; give one per frame.`);
  }

  const imageCount = frameCount * stack.count;
  const bytes = normalizeToRgbBytes(stack.pixels, { ...stack, count: imageCount }, options.normalization ?? "minmax");
  const plan = planBatchGrid(stack.count, options, what);
  const baseStyle = resolveGridStyle({ ...options, title: frameCaptions?.[0] }, plan, stack.count, what);
  const bytesPerFrame = stack.count * stack.height * stack.width * 3;
  const frameDelayMs = 1000 / fps;

  const gif = GIFEncoder();
  for (let f = 0; f < frameCount; f++) {
    const frameBytes = bytes.subarray(f * bytesPerFrame, (f + 1) * bytesPerFrame);
    const cells = { bytes: frameBytes, count: stack.count, height: stack.height, width: stack.width };
    const canvas = paintGrid(cells, plan, { ...baseStyle, title: frameCaptions?.[f] ?? null });
    const { data } = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height);
    const { palette, index } = indexColours(data);
    const isLast = f === frameCount - 1;
    gif.writeFrame(index, canvas.width, canvas.height, {
      palette,
      delay: frameDelayMs + (isLast ? holdLastSeconds * 1000 : 0),
      repeat: options.loop === false ? -1 : 0,
    });
  }
  gif.finish();
  const encoded = gif.bytes();
  return Buffer.from(encoded.buffer, encoded.byteOffset, encoded.byteLength);
}

/**
 * Palette and per-pixel palette indices of one opaque RGBA frame: exact when it has at most 256
 * colours, else gifenc's quantize + applyPalette (nearest palette colour).
 */
function indexColours(rgba: Uint8ClampedArray): { palette: GifPalette; index: Uint8Array } {
  const pixelCount = rgba.length / 4;
  const indexOfColour = new Map<number, number>();
  const index = new Uint8Array(pixelCount);
  for (let p = 0; p < pixelCount; p++) {
    const key = (rgba[4 * p] << 16) | (rgba[4 * p + 1] << 8) | rgba[4 * p + 2];
    let slot = indexOfColour.get(key);
    if (slot === undefined) {
      if (indexOfColour.size === GIF_PALETTE_SIZE) {
        // PnnQuant's cost grows with the square of occupied colour bins: rgb565's 65536 bins
        // take ~10 s on a noisy 530 x 266 frame, rgb444's 4096 ~0.2 s. Mapping pixels to the
        // palette still uses the finer rgb565 bins.
        const palette = quantize(rgba, GIF_PALETTE_SIZE, { format: "rgb444" });
        return { palette, index: applyPalette(rgba, palette, "rgb565") };
      }
      slot = indexOfColour.size;
      indexOfColour.set(key, slot);
    }
    index[p] = slot;
  }
  const palette = [...indexOfColour.keys()].map((key) => [(key >> 16) & 255, (key >> 8) & 255, key & 255]);
  return { palette, index };
}
