/**
 * Turns a drawn region map into pixels. A base sprite is compiled once (shading tones, outline)
 * into an index map plus a small colour table; each of its variants then re-renders that map
 * with a small jitter: a palette shift, a 1-pixel move, and its own light background with faint
 * pixel-level variation.
 */
import { SPRITE_SIZE, type SpriteCanvas } from "./canvas";
import { Prng } from "./prng";
import { BACKGROUND, blue, darken, green, jitter, lighten, red, rgb, shift, type Rgb } from "./palette";

const N = SPRITE_SIZE;
const BACKGROUND_INDEX = 0;
const OUTLINE_INDEX = 1;
export const LIGHT_AMOUNT = 96; // highlight: 96/256 of the way to white
export const DARK_AMOUNT = 78; // shadow: channels times 178/256

/** A compiled base sprite: per pixel an index into `colours` (0 background, 1 outline). */
export interface BaseSprite {
  readonly pixels: Uint8Array;
  readonly colours: readonly Rgb[];
  /** Inclusive extent of the non-background pixels (outline included): minX, minY, maxX, maxY. */
  readonly extent: readonly [number, number, number, number];
}

/** The per-variant jitter applied to a base sprite. */
export interface VariantJitter {
  readonly dx: number;
  readonly dy: number;
  readonly colourShift: readonly [number, number, number];
  readonly background: Rgb;
  readonly backgroundSeed: number;
}

type Tone = 0 | 1 | 2; // light, mid, dark

/**
 * Light from the top-left: region edges facing down/right are dark, up/left light. Flat marks
 * drawn on a region (eyes, spots) do not count as its edge, so faces do not speckle the shading.
 */
function edgeTone(canvas: SpriteCanvas, x: number, y: number, id: number): Tone {
  const outside = (nx: number, ny: number): boolean => {
    const other = canvas.get(nx, ny);
    return other !== id && (other === 0 || canvas.regions[other].shading !== "flat");
  };
  const up = outside(x, y - 1);
  const down = outside(x, y + 1);
  const left = outside(x - 1, y);
  const right = outside(x + 1, y);
  if ((down && !up) || (right && !left)) return 2;
  if ((up && !down) || (left && !right)) return 0;
  return 1;
}

/** Bounding boxes of every region, used by "round" shading. */
function regionBoxes(canvas: SpriteCanvas): Int32Array {
  const boxes = new Int32Array(canvas.regions.length * 4);
  for (let r = 0; r < canvas.regions.length; r++) boxes.set([N, N, -1, -1], r * 4);
  for (let y = 0; y < N; y++) {
    for (let x = 0; x < N; x++) {
      const r = canvas.get(x, y) * 4;
      boxes[r] = Math.min(boxes[r], x);
      boxes[r + 1] = Math.min(boxes[r + 1], y);
      boxes[r + 2] = Math.max(boxes[r + 2], x);
      boxes[r + 3] = Math.max(boxes[r + 3], y);
    }
  }
  return boxes;
}

/**
 * "round": the edge tone, plus the lower-right of the region's box darkened: a pixel whose
 * position u + v (u, v in [0, 1] across the box) exceeds 1.3 is in shadow (integers x 100).
 */
function roundTone(canvas: SpriteCanvas, boxes: Int32Array, x: number, y: number, id: number): Tone {
  const tone = edgeTone(canvas, x, y, id);
  const w = Math.max(1, boxes[id * 4 + 2] - boxes[id * 4]);
  const h = Math.max(1, boxes[id * 4 + 3] - boxes[id * 4 + 1]);
  const diagonal = Math.floor(((x - boxes[id * 4]) * 100) / w) + Math.floor(((y - boxes[id * 4 + 1]) * 100) / h);
  if (diagonal > 130) return 2;
  if (diagonal < 40 && tone === 1) return 0;
  return tone;
}

/** Compiles a drawn canvas: tones per region, then the 1-pixel outline around the drawing. */
export function compileSprite(canvas: SpriteCanvas, outline: Rgb): BaseSprite {
  const colours: Rgb[] = [0, outline];
  const toneIndex = new Map<number, number>();
  const indexOf = (colour: Rgb): number => {
    const known = toneIndex.get(colour);
    if (known !== undefined) return known;
    colours.push(colour);
    toneIndex.set(colour, colours.length - 1);
    return colours.length - 1;
  };
  const boxes = regionBoxes(canvas);
  const pixels = new Uint8Array(N * N);
  for (let y = 0; y < N; y++) {
    for (let x = 0; x < N; x++) {
      const id = canvas.get(x, y);
      if (id === 0) continue;
      const region = canvas.regions[id];
      const tone =
        region.shading === "flat" ? 1 : region.shading === "round" ? roundTone(canvas, boxes, x, y, id) : edgeTone(canvas, x, y, id);
      const colour = tone === 0 ? lighten(region.colour, LIGHT_AMOUNT) : tone === 2 ? darken(region.colour, DARK_AMOUNT) : region.colour;
      pixels[y * N + x] = indexOf(colour);
    }
  }
  // The outline: every empty cell 4-adjacent to the drawing.
  for (let y = 0; y < N; y++) {
    for (let x = 0; x < N; x++) {
      if (canvas.get(x, y) !== 0) continue;
      if (canvas.get(x - 1, y) || canvas.get(x + 1, y) || canvas.get(x, y - 1) || canvas.get(x, y + 1)) {
        pixels[y * N + x] = OUTLINE_INDEX;
      }
    }
  }
  return { pixels, colours, extent: extentOf(pixels) };
}

function extentOf(pixels: Uint8Array): [number, number, number, number] {
  let minX = N, minY = N, maxX = -1, maxY = -1;
  for (let i = 0; i < pixels.length; i++) {
    if (pixels[i] === BACKGROUND_INDEX) continue;
    const x = i % N, y = (i - x) / N;
    minX = Math.min(minX, x); maxX = Math.max(maxX, x);
    minY = Math.min(minY, y); maxY = Math.max(maxY, y);
  }
  return [minX, minY, maxX, maxY];
}

/** Draws a variant's jitter: a move that keeps the sprite in frame, a palette shift, a background. */
export function drawJitter(base: BaseSprite, prng: Prng, identity: boolean): VariantJitter {
  const [minX, minY, maxX, maxY] = base.extent;
  // A sprite that touches an edge of the frame stays put along that axis: moving it would
  // either push pixels out or expose a side that has no outline.
  const move = (lo: number, hi: number): number => {
    const options = [0];
    if (lo > 0 && hi < N - 1) options.push(-1, 1);
    return prng.pick(options);
  };
  const dx = identity ? 0 : move(minX, maxX);
  const dy = identity ? 0 : move(minY, maxY);
  const s = identity ? 0 : 8;
  const colourShift: [number, number, number] = [prng.range(-s, s), prng.range(-s, s), prng.range(-s, s)];
  const background = jitter(prng.pick(BACKGROUND), prng, 5);
  return { dx, dy, colourShift, background, backgroundSeed: prng.nextUint32() };
}

/**
 * Writes one variant as 16x16x3 uint8 RGB (row-major, HWC) into out[offset ..]. The background
 * carries faint grain: each pixel's channels move together by an offset in [-3, 3].
 */
export function renderVariant(base: BaseSprite, jitterParams: VariantJitter, out: Uint8Array, offset: number): void {
  const { dx, dy, colourShift, background, backgroundSeed } = jitterParams;
  const [dr, dg, db] = colourShift;
  const palette = base.colours.map((c, i) => (i === OUTLINE_INDEX ? c : shift(c, dr, dg, db)));
  const grain = new Prng(backgroundSeed);
  for (let y = 0; y < N; y++) {
    for (let x = 0; x < N; x++) {
      const sx = x - dx;
      const sy = y - dy;
      const index = sx >= 0 && sy >= 0 && sx < N && sy < N ? base.pixels[sy * N + sx] : BACKGROUND_INDEX;
      const o = offset + (y * N + x) * 3;
      if (index === BACKGROUND_INDEX) {
        const g = grain.range(-3, 3);
        const c = rgb(red(background) + g, green(background) + g, blue(background) + g);
        out[o] = red(c);
        out[o + 1] = green(c);
        out[o + 2] = blue(c);
      } else {
        const c = palette[index];
        out[o] = red(c);
        out[o + 1] = green(c);
        out[o + 2] = blue(c);
      }
    }
  }
}
