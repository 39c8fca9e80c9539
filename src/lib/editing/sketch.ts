/**
 * Rough sketches drawn by code, the starting points of image-to-image editing (SDEdit: noise a
 * sketch part of the way, then denoise it into a sprite). A sketch is a few flat-colour
 * rectangles and ellipses on a light background, with none of the sprites' outline or shading;
 * the model is to supply those.
 *
 * Coordinates are those of a 16 x 16 sprite: x to the right, y down, a shape covering
 * x .. x + width and y .. y + height in pixel units. Drawn at another size they scale with it.
 */
import * as tf from "@tensorflow/tfjs-core";

export interface SketchShape {
  kind: "rect" | "ellipse";
  /** Left and top edges, on the 16-pixel grid. */
  x: number;
  y: number;
  width: number;
  height: number;
  /** RGB, each 0..255. */
  colour: [number, number, number];
}

export interface Sketch {
  name: string;
  /** RGB, each 0..255. */
  background: [number, number, number];
  /** Drawn in order, later shapes over earlier ones. */
  shapes: SketchShape[];
}

/** The grid sketch coordinates are given on: the sprites' side. */
const GRID = 16;

/** A light cream, the family of the sprites' backgrounds (0xeeeeee .. 0xfaf6e0). */
const PAPER: [number, number, number] = [244, 242, 234];

const SKIN: [number, number, number] = [238, 187, 146];

/** A sketch frozen all the way down, so a caller cannot change a preset for everyone. */
function frozen(sketch: Sketch): Sketch {
  for (const shape of sketch.shapes) {
    Object.freeze(shape.colour);
    Object.freeze(shape);
  }
  Object.freeze(sketch.background);
  Object.freeze(sketch.shapes);
  return Object.freeze(sketch);
}

/**
 * The preset sketches, one a class where it fits: "hero" (a front-facing figure: legs, body and
 * arms, a head), "food" (a round red fruit with a stem and a leaf), "tool" (a hammer: a wooden
 * handle and a grey head), "orb" (a spell: a purple sphere with a light core).
 */
export const SKETCHES: Readonly<Record<string, Sketch>> = Object.freeze({
  hero: frozen({
    name: "hero",
    background: PAPER,
    shapes: [
      { kind: "rect", x: 5, y: 12, width: 2, height: 3, colour: [90, 58, 34] },
      { kind: "rect", x: 9, y: 12, width: 2, height: 3, colour: [90, 58, 34] },
      { kind: "rect", x: 2, y: 7, width: 12, height: 2, colour: [52, 104, 208] },
      { kind: "rect", x: 2, y: 9, width: 2, height: 3, colour: SKIN },
      { kind: "rect", x: 12, y: 9, width: 2, height: 3, colour: SKIN },
      { kind: "rect", x: 4, y: 7, width: 8, height: 6, colour: [52, 104, 208] },
      { kind: "ellipse", x: 5, y: 1, width: 6, height: 6, colour: SKIN },
    ],
  }),
  food: frozen({
    name: "food",
    background: PAPER,
    shapes: [
      { kind: "rect", x: 7, y: 1, width: 2, height: 4, colour: [122, 74, 40] },
      { kind: "ellipse", x: 2, y: 4, width: 12, height: 11, colour: [216, 40, 40] },
      { kind: "ellipse", x: 9, y: 1, width: 5, height: 3, colour: [72, 168, 56] },
    ],
  }),
  tool: frozen({
    name: "tool",
    background: PAPER,
    shapes: [
      { kind: "rect", x: 7, y: 5, width: 2, height: 10, colour: [154, 98, 52] },
      { kind: "rect", x: 3, y: 2, width: 10, height: 4, colour: [168, 176, 192] },
    ],
  }),
  orb: frozen({
    name: "orb",
    background: PAPER,
    shapes: [
      { kind: "ellipse", x: 2, y: 2, width: 12, height: 12, colour: [128, 64, 184] },
      { kind: "ellipse", x: 5, y: 5, width: 5, height: 5, colour: [216, 176, 248] },
    ],
  }),
});

/** The preset sketch called `name`; throws listing the presets otherwise. */
export function sketchByName(name: string): Sketch {
  if (!Object.prototype.hasOwnProperty.call(SKETCHES, name)) {
    throw new Error(`sketchByName: no sketch "${name}"; the sketches are ${Object.keys(SKETCHES).join(", ")}.`);
  }
  return SKETCHES[name];
}

/** Throws unless `colour` is three numbers in 0..255. */
function checkColour(where: string, colour: readonly number[]): void {
  if (colour.length !== 3 || colour.some((v) => !Number.isFinite(v) || v < 0 || v > 255)) {
    throw new Error(`drawSketch: ${where} colour is [${colour}]; give three RGB values in 0..255.`);
  }
}

/** Throws unless the shape has a known kind, finite edges and a positive size. */
function checkShape(sketch: Sketch, k: number): void {
  const { kind, x, y, width, height, colour } = sketch.shapes[k];
  const where = `shape ${k} of sketch "${sketch.name}"`;
  if (kind !== "rect" && kind !== "ellipse") throw new Error(`drawSketch: ${where} has kind "${String(kind)}"; use "rect" or "ellipse".`);
  if (![x, y].every(Number.isFinite) || !(width > 0) || !(height > 0) || !Number.isFinite(width) || !Number.isFinite(height)) {
    throw new Error(`drawSketch: ${where} has x ${x}, y ${y}, width ${width}, height ${height}; give finite edges and a positive width and height.`);
  }
  checkColour(where, colour);
}

/**
 * Whether the point (u, v), in grid units, is inside the shape: for a rect x <= u < x + width
 * and y <= v < y + height; for an ellipse ((u - cx) / rx)^2 + ((v - cy) / ry)^2 <= 1 with the
 * centre (cx, cy) and radii rx, ry of its bounding box.
 */
function covers(shape: SketchShape, u: number, v: number): boolean {
  const { x, y, width, height } = shape;
  if (shape.kind === "rect") return u >= x && u < x + width && v >= y && v < y + height;
  const du = (u - (x + width / 2)) / (width / 2);
  const dv = (v - (y + height / 2)) / (height / 2);
  return du * du + dv * dv <= 1;
}

/**
 * Draws a sketch at `size` x `size` pixels (default 16). A pixel takes the colour of the last
 * shape covering its centre, tested in grid units ((x + 1/2) 16 / size, (y + 1/2) 16 / size),
 * else the background; colours map to [-1, 1] as the data set does, (v / 255 - 0.5) / 0.5.
 * @returns [1, size, size, 3] NHWC in [-1, 1], owned by the caller.
 */
export function drawSketch(sketch: Sketch, size = GRID): tf.Tensor4D {
  if (!Number.isInteger(size) || size < 1) throw new Error(`drawSketch: size must be a positive integer, got ${size}.`);
  checkColour(`the background of sketch "${sketch.name}"`, sketch.background);
  sketch.shapes.forEach((_, k) => checkShape(sketch, k));
  const pixels = new Float32Array(size * size * 3);
  const scale = GRID / size;
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      let colour = sketch.background;
      for (const shape of sketch.shapes) if (covers(shape, (px + 0.5) * scale, (py + 0.5) * scale)) colour = shape.colour;
      for (let c = 0; c < 3; c++) pixels[(py * size + px) * 3 + c] = (colour[c] / 255 - 0.5) / 0.5;
    }
  }
  return tf.tensor4d(pixels, [1, size, size, 3]);
}
