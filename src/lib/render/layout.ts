/**
 * Paints already-normalised 8-bit RGB cells into a grid on an @napi-rs/canvas canvas: integer
 * nearest-neighbour scale-up, gutters between cells, optional caption bands. Knows nothing about
 * tensors or diffusion; grid.ts and gif.ts feed it.
 *
 * Geometry (all in output pixels, integers), with cell = (height x scale) by (width x scale) and
 * band = ceil(1.5 x captionFontPx):
 *
 *     width  = cols x cellWidth + (cols - 1) x gutter
 *     height = titleBand + columnBand + rows x (cellHeight + cellCaptionBand) + (rows - 1) x gutter
 *
 * where each band is `band` when its captions are given and 0 otherwise. The title band (one
 * string, centred) is on top, then the column-caption band (one string per column, centred over
 * it); a cell caption sits in a band directly below its cell. Gutters lie only between cells,
 * not around the edge; caption bands and empty cells show the background.
 */
import { createCanvas, GlobalFonts, type Canvas, type SKRSContext2D } from "@napi-rs/canvas";

/** How a grid looks; every field is resolved (defaults applied by the caller). */
export interface GridStyle {
  scale: number;
  gutter: number;
  gutterColor: string;
  background: string;
  captionColor: string;
  captionFontPx: number;
  /** One string above the whole grid, or null. */
  title: string | null;
  /** One string per column, or null. */
  columnCaptions: readonly string[] | null;
  /** One string per cell in reading order (row-major), or null. */
  cellCaptions: readonly string[] | null;
}

/** A grid of `rows x cols` cells; `imageAt(row, col)` says which image fills a cell, or null. */
export interface GridPlan {
  rows: number;
  cols: number;
  imageAt: (row: number, col: number) => number | null;
}

/** 8-bit RGB images, NHWC, `count x height x width x 3` bytes. */
export interface RgbCells {
  bytes: Uint8Array;
  count: number;
  height: number;
  width: number;
}

/** Fonts tried for captions, in order; the first one @napi-rs/canvas has loaded is used. */
const PREFERRED_FONT_FAMILIES = ["DejaVu Sans", "Liberation Sans", "Noto Sans", "Arial", "Helvetica"];

/** Height of one caption band for a given font size: ceil(1.5 x font px). */
export function captionBandHeight(captionFontPx: number): number {
  return Math.ceil(1.5 * captionFontPx);
}

/**
 * The family used for captions. Throws when the system has no fonts, because fillText would
 * silently draw nothing and the captions would vanish without a trace.
 */
export function captionFontFamily(): string {
  const loaded = GlobalFonts.families.map((entry) => entry.family);
  const family = PREFERRED_FONT_FAMILIES.find((name) => loaded.includes(name)) ?? loaded[0];
  if (family === undefined) {
    throw new Error(
      "Captions need a font but @napi-rs/canvas found none on this system. Install one " +
        "(Debian/Ubuntu: `apt-get install fonts-dejavu-core`) or register a .ttf with " +
        "GlobalFonts.registerFromPath(path), or render without captions.",
    );
  }
  return family;
}

/** Paints the grid and returns its canvas (size per the module comment). */
export function paintGrid(cells: RgbCells, plan: GridPlan, style: GridStyle): Canvas {
  const cellWidth = cells.width * style.scale;
  const cellHeight = cells.height * style.scale;
  const band = captionBandHeight(style.captionFontPx);
  const titleBand = style.title !== null ? band : 0;
  const columnBand = style.columnCaptions !== null ? band : 0;
  const cellCaptionBand = style.cellCaptions !== null ? band : 0;
  const gridTop = titleBand + columnBand;
  const colPitch = cellWidth + style.gutter;
  const rowPitch = cellHeight + cellCaptionBand + style.gutter;
  const width = plan.cols * colPitch - style.gutter;
  const height = gridTop + plan.rows * rowPitch - style.gutter;

  const canvas = createCanvas(width, height);
  const ctx = canvas.getContext("2d");
  ctx.fillStyle = style.background;
  ctx.fillRect(0, 0, width, height);
  paintGutters(ctx, plan, style, { width, height, gridTop, colPitch, rowPitch });

  for (let row = 0; row < plan.rows; row++) {
    for (let col = 0; col < plan.cols; col++) {
      const image = plan.imageAt(row, col);
      if (image === null) continue;
      ctx.putImageData(scaledCell(ctx, cells, image, style.scale), col * colPitch, gridTop + row * rowPitch);
    }
  }

  if (titleBand + columnBand + cellCaptionBand > 0) {
    ctx.font = `${style.captionFontPx}px "${captionFontFamily()}"`;
    ctx.fillStyle = style.captionColor;
    ctx.textAlign = "center";
    ctx.textBaseline = "middle";
  }
  // maxWidth squeezes a caption wider than its cell instead of letting it spill over a neighbour.
  const captionWidth = Math.max(1, cellWidth - 2);
  if (style.title !== null) ctx.fillText(style.title, width / 2, band / 2, width);
  style.columnCaptions?.forEach((text, col) => {
    ctx.fillText(text, col * colPitch + cellWidth / 2, titleBand + band / 2, captionWidth);
  });
  style.cellCaptions?.forEach((text, index) => {
    const row = Math.floor(index / plan.cols);
    const col = index % plan.cols;
    const y = gridTop + row * rowPitch + cellHeight + band / 2;
    ctx.fillText(text, col * colPitch + cellWidth / 2, y, captionWidth);
  });
  return canvas;
}

/** Vertical strips between columns and horizontal strips between rows, below the caption bands. */
function paintGutters(
  ctx: SKRSContext2D,
  plan: GridPlan,
  style: GridStyle,
  frame: { width: number; height: number; gridTop: number; colPitch: number; rowPitch: number },
): void {
  if (style.gutter === 0) return;
  ctx.fillStyle = style.gutterColor;
  for (let col = 1; col < plan.cols; col++) {
    ctx.fillRect(col * frame.colPitch - style.gutter, frame.gridTop, style.gutter, frame.height - frame.gridTop);
  }
  for (let row = 1; row < plan.rows; row++) {
    ctx.fillRect(0, frame.gridTop + row * frame.rowPitch - style.gutter, frame.width, style.gutter);
  }
}

/** One cell blown up by an integer factor: output pixel (y, x) copies input (y / s, x / s) floored. */
function scaledCell(ctx: SKRSContext2D, cells: RgbCells, image: number, scale: number) {
  const outWidth = cells.width * scale;
  const outHeight = cells.height * scale;
  const cell = ctx.createImageData(outWidth, outHeight);
  const base = image * cells.height * cells.width * 3;
  for (let y = 0; y < outHeight; y++) {
    const sourceRow = base + Math.floor(y / scale) * cells.width * 3;
    for (let x = 0; x < outWidth; x++) {
      const source = sourceRow + Math.floor(x / scale) * 3;
      const target = (y * outWidth + x) * 4;
      cell.data[target] = cells.bytes[source];
      cell.data[target + 1] = cells.bytes[source + 1];
      cell.data[target + 2] = cells.bytes[source + 2];
      cell.data[target + 3] = 255;
    }
  }
  return cell;
}
