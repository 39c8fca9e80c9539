/**
 * Image grids: a batch, or a frames x batch stack, of NHWC images to one PNG.
 *
 * - Tensor4D [N, H, W, C]: N cells in reading order (row-major: image i at row floor(i / cols),
 *   column i mod cols). Give `rows` or `cols` (the other is derived, ceil(N / given)); with
 *   neither, cols = ceil(sqrt(N)) and rows = ceil(N / cols). The course shows 32 samples as
 *   4 rows x 8: `{ rows: 4 }`.
 * - Tensor5D [F, N, H, W, C] (frames x batch, e.g. the sampler's saved denoising frames): frames
 *   are COLUMNS and batch items are ROWS, so row n reads one sample's denoising left to right,
 *   from noise to image; image [f, n] sits at row n, column f. `rows`/`cols`, if given, must be
 *   N and F.
 *
 * C is 3 (RGB) or 1 (grey). Values are model-space floats, [-1, 1] for images; see normalize.ts
 * for the two mappings to colours. Sizes and caption placement: see layout.ts. The input tensor
 * is read back once (dataSync) and never disposed; no tensors are created.
 */
import * as tf from "@tensorflow/tfjs-core";
import { type Canvas } from "@napi-rs/canvas";
import { paintGrid, type GridPlan, type GridStyle, type RgbCells } from "./layout";
import { normalizeToRgbBytes, type ImageBatchShape, type Normalization } from "./normalize";

/** Options of `renderGridPng` / `renderGridRgba`; every default is listed here. */
export interface GridOptions {
  /** Rows of cells (4-D input). Default: derived from `cols`, else ceil(N / ceil(sqrt(N))). */
  rows?: number;
  /** Columns of cells (4-D input). Default: derived from `rows`, else ceil(sqrt(N)). */
  cols?: number;
  /** Nearest-neighbour integer scale-up; 16 px sprites are unreadable at 1:1. Default 4. */
  scale?: number;
  /** Pixels between cells at output scale (none around the edge). Default 2. */
  gutter?: number;
  /** CSS colour of the gutters. Default "#c0c0c0" (light grey, visible against pastel sprites). */
  gutterColor?: string;
  /** CSS colour of caption bands and empty cells. Default "#ffffff". */
  background?: string;
  /** "clip" (static grids) or "minmax" (per image and channel). Default "clip". */
  normalization?: Normalization;
  /** One caption per column, above it (e.g. "t=500" for frame columns). Adds a caption band. */
  columnCaptions?: readonly string[];
  /** One caption per image, below its cell, in reading order (row-major). Adds a band per row. */
  cellCaptions?: readonly string[];
  /** One caption above the whole grid. Adds a caption band. */
  title?: string;
  /** Caption font size in output pixels; a caption band is ceil(1.5 x this). Default 12. */
  captionFontPx?: number;
  /** CSS colour of caption text. Default "#000000". */
  captionColor?: string;
}

/** Straight RGBA pixels, row-major, `width x height x 4` bytes. */
export interface RgbaImage {
  width: number;
  height: number;
  rgba: Uint8ClampedArray;
}

/** A batch or a frames x batch stack read back to a flat array, with its extent. */
export interface ImageStack extends ImageBatchShape {
  /** The values, [frames x] count x height x width x channels. */
  pixels: Float32Array;
  /** F for a 5-D stack, null for a 4-D batch. */
  frames: number | null;
}

/** Renders `images` as a grid and returns PNG bytes. See the module comment for the layout. */
export function renderGridPng(images: tf.Tensor4D | tf.Tensor5D, options: GridOptions = {}): Buffer {
  return drawGrid(images, options, "renderGridPng").toBuffer("image/png");
}

/** Like `renderGridPng` but returns the raw RGBA pixels (for tests, GIF frames, custom output). */
export function renderGridRgba(images: tf.Tensor4D | tf.Tensor5D, options: GridOptions = {}): RgbaImage {
  const canvas = drawGrid(images, options, "renderGridRgba");
  const { data } = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height);
  return { width: canvas.width, height: canvas.height, rgba: data };
}

function drawGrid(images: tf.Tensor4D | tf.Tensor5D, options: GridOptions, what: string): Canvas {
  const stack = readImageStack(images, what);
  const images4 = stack.frames === null ? stack.count : stack.frames * stack.count;
  const cells: RgbCells = {
    bytes: normalizeToRgbBytes(stack.pixels, { ...stack, count: images4 }, options.normalization ?? "clip"),
    count: images4,
    height: stack.height,
    width: stack.width,
  };
  const plan = stack.frames === null ? planBatchGrid(stack.count, options, what) : planFramesGrid(stack, options, what);
  return paintGrid(cells, plan, resolveGridStyle(options, plan, images4, what));
}

/**
 * Reads a 4-D [N,H,W,C] or 5-D [F,N,H,W,C] tensor back to a Float32Array (one dataSync, the
 * caller's tensor untouched) after checking rank and channels; values are checked later.
 */
export function readImageStack(images: tf.Tensor, what: string, allowedRanks: readonly number[] = [4, 5]): ImageStack {
  if (images === null || typeof images !== "object" || typeof images.dataSync !== "function") {
    throw new Error(`${what}: expected a tf.Tensor of images, got ${images === null ? "null" : typeof images}.`);
  }
  const shape = images.shape;
  if (!allowedRanks.includes(shape.length)) {
    const expected = allowedRanks.map((rank) => (rank === 4 ? "[N, H, W, C]" : "[F, N, H, W, C]")).join(" or ");
    throw new Error(
      `${what}: expected ${expected} (NHWC), got rank ${shape.length} shape [${shape.join(", ")}]; ` +
        `for one image use x.expandDims(0), for NCHW data transpose to NHWC.`,
    );
  }
  const [height, width, channels] = shape.slice(-3);
  if (channels !== 3 && channels !== 1) {
    throw new Error(
      `${what}: images must have 3 channels (RGB) or 1 (grey) last, got ${channels} in shape ` +
        `[${shape.join(", ")}]; is it NCHW? transpose to NHWC.`,
    );
  }
  if (shape.some((size) => size === 0)) throw new Error(`${what}: empty image tensor, shape [${shape.join(", ")}].`);
  const values = images.dataSync();
  const pixels = values instanceof Float32Array ? values : Float32Array.from(values as ArrayLike<number>);
  const frames = shape.length === 5 ? shape[0] : null;
  return { pixels, frames, count: shape[shape.length - 4], height, width, channels };
}

/** rows x cols for N cells in reading order (see the module comment). */
export function planBatchGrid(count: number, options: { rows?: number; cols?: number }, what: string): GridPlan {
  const { rows: askedRows, cols: askedCols } = options;
  if (askedRows !== undefined) assertPositiveInteger(askedRows, "rows", what);
  if (askedCols !== undefined) assertPositiveInteger(askedCols, "cols", what);
  const cols = askedCols ?? (askedRows !== undefined ? Math.ceil(count / askedRows) : Math.ceil(Math.sqrt(count)));
  const rows = askedRows ?? Math.ceil(count / cols);
  if (rows * cols < count) {
    throw new Error(
      `${what}: ${rows} rows x ${cols} cols hold ${rows * cols} cells, fewer than the ${count} images; ` +
        `give only rows or only cols.`,
    );
  }
  return { rows, cols, imageAt: (row, col) => (row * cols + col < count ? row * cols + col : null) };
}

/** Frames as columns, batch items as rows: image [f, n] (flat index f N + n) at row n, column f. */
function planFramesGrid(stack: ImageStack, options: GridOptions, what: string): GridPlan {
  const frames = stack.frames as number;
  const count = stack.count;
  if ((options.rows !== undefined && options.rows !== count) || (options.cols !== undefined && options.cols !== frames)) {
    throw new Error(
      `${what}: a [F, N, H, W, C] stack is laid out with its N = ${count} samples as rows and its ` +
        `F = ${frames} frames as columns; got rows ${options.rows}, cols ${options.cols}. Omit rows/cols, ` +
        `or render one frame (a 4-D batch) to choose them.`,
    );
  }
  return { rows: count, cols: frames, imageAt: (row, col) => col * count + row };
}

/** Applies the defaults of `GridOptions` and checks sizes and caption counts. */
export function resolveGridStyle(options: GridOptions, plan: GridPlan, imageCount: number, what: string): GridStyle {
  const style: GridStyle = {
    scale: options.scale ?? 4,
    gutter: options.gutter ?? 2,
    gutterColor: options.gutterColor ?? "#c0c0c0",
    background: options.background ?? "#ffffff",
    captionColor: options.captionColor ?? "#000000",
    captionFontPx: options.captionFontPx ?? 12,
    title: options.title ?? null,
    columnCaptions: options.columnCaptions ?? null,
    cellCaptions: options.cellCaptions ?? null,
  };
  assertPositiveInteger(style.scale, "scale", what);
  assertPositiveInteger(style.captionFontPx, "captionFontPx", what);
  if (!Number.isInteger(style.gutter) || style.gutter < 0) {
    throw new Error(`${what}: gutter must be a whole number of pixels >= 0, got ${style.gutter}.`);
  }
  if (style.columnCaptions !== null && style.columnCaptions.length !== plan.cols) {
    const given = style.columnCaptions.length;
    throw new Error(`${what}: columnCaptions has ${given} entries for ${plan.cols} columns; give one per column.`);
  }
  if (style.cellCaptions !== null && style.cellCaptions.length !== imageCount) {
    const given = style.cellCaptions.length;
    throw new Error(`${what}: cellCaptions has ${given} entries for ${imageCount} images; give one per image, in reading order.`);
  }
  return style;
}

function assertPositiveInteger(value: number, name: string, what: string): void {
  if (!Number.isInteger(value) || value < 1) throw new Error(`${what}: ${name} must be a positive integer, got ${value}.`);
}
