/**
 * Faces for creatures: eyes and mouths drawn on the left half (mirroring adds the other side).
 * `FaceInks` holds the flat regions they use, made once per sprite.
 */
import type { SpriteCanvas } from "./canvas";
import type { Prng } from "./prng";
import { GEM } from "./palette";

export interface FaceInks {
  ink: number;
  white: number;
  glow: number;
  blush: number;
}

/** The flat regions faces use: near-black ink, white, a glowing iris colour, pink blush. */
export function faceInks(c: SpriteCanvas, prng: Prng): FaceInks {
  return {
    ink: c.region(0x1c1420, "flat"),
    white: c.region(0xfafaf4, "flat"),
    glow: c.region(prng.pick([GEM[0], GEM[4], GEM[5], GEM[2]]), "flat"),
    blush: c.region(0xf08888, "flat"),
  };
}

export type CreatureEye = "dot" | "tall" | "big" | "angry" | "glow" | "sleepy";

/** One eye whose inner column is x (the pupil sits toward the axis), on row y. */
export function drawCreatureEye(c: SpriteCanvas, x: number, y: number, style: CreatureEye, f: FaceInks): void {
  switch (style) {
    case "dot":
      c.set(x, y, f.ink);
      break;
    case "tall":
      c.rect(x, y - 1, 1, 2, f.ink);
      break;
    case "big":
      c.rect(x - 1, y - 1, 2, 2, f.white);
      c.set(x, y, f.ink);
      break;
    case "angry":
      c.set(x - 1, y - 1, f.ink);
      c.set(x, y, f.ink);
      c.set(x - 1, y, f.white);
      break;
    case "glow":
      c.rect(x - 1, y, 2, 1, f.glow);
      break;
    case "sleepy":
      c.rect(x - 1, y, 2, 1, f.ink);
      break;
  }
}

export type Mouth = "none" | "smile" | "open" | "fangs" | "line";

/** A mouth centred on the axis (x = 7 | 8) at row y; left half only. */
export function drawMouth(c: SpriteCanvas, y: number, style: Mouth, f: FaceInks): void {
  switch (style) {
    case "smile":
      c.set(6, y - 1, f.ink);
      c.set(7, y, f.ink);
      break;
    case "open":
      c.set(7, y, f.ink);
      c.set(7, y - 1, f.ink);
      break;
    case "fangs":
      c.rect(5, y - 1, 3, 1, f.ink);
      c.set(6, y, f.white);
      break;
    case "line":
      c.rect(6, y, 2, 1, f.ink);
      break;
    case "none":
      break;
  }
}

/** Random eye and mouth styles. */
export function randomFace(prng: Prng): { eye: CreatureEye; mouth: Mouth } {
  return {
    eye: prng.pick<CreatureEye>(["dot", "tall", "tall", "big", "big", "angry", "glow", "sleepy"]),
    mouth: prng.pick<Mouth>(["none", "smile", "smile", "open", "fangs", "line"]),
  };
}
