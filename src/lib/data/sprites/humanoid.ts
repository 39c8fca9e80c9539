/**
 * Front-facing figures in chibi proportions (big head, short body), shared by heroes and by the
 * villagers and humanoid monsters of the non-hero class. Parts are drawn on the left half
 * (x 0..7) and mirrored; asymmetric props (a sword, a shield) are added after mirroring.
 *
 * Vertical layout (rows): an outline row on top, the head from `skullTop` to `chin`, the torso
 * from chin + 1 to `waist`, legs down to row 14, and the bottom outline on row 15.
 */
import type { SpriteCanvas } from "./canvas";
import type { Prng } from "./prng";
import type { SpritePart } from "./traits";
import { darken, lighten, type Rgb } from "./palette";

/** Where a front-facing figure's parts sit (left half; x = 7 is the column next to the axis). */
export interface FigureLayout {
  /** Half the head width: 4 (8 px) or 5 (10 px). */
  headHalf: number;
  /** First row of the skull (hair or hat from here). */
  skullTop: number;
  /** Last row of the face. */
  chin: number;
  /** Row of the eyes. */
  eyeRow: number;
  /** Half the torso width: 3 (6 px) or 4 (8 px). */
  torsoHalf: number;
  /** Last row of the torso (belt line); legs run from waist + 1 to 14. */
  waist: number;
}

/** A layout with small random proportions; `hatRows` leaves room above the head for a tall hat. */
export function randomLayout(prng: Prng, hatRows = 0): FigureLayout {
  const headHalf = prng.chance(1, 2) ? 4 : 5;
  const skullTop = 1 + hatRows;
  const chin = skullTop + (hatRows > 0 ? 5 : prng.range(5, 6));
  const torsoHalf = headHalf === 5 ? prng.pick([3, 4]) : 3;
  const waist = Math.min(12, chin + prng.range(4, 5));
  return { headHalf, skullTop, chin, eyeRow: chin - 2, torsoHalf, waist };
}

/** Skin of the head, rounded at the bottom corners. */
export function drawHead(c: SpriteCanvas, l: FigureLayout, skin: number): void {
  const left = 8 - l.headHalf;
  c.rect(left, l.skullTop, l.headHalf, l.chin - l.skullTop + 1, skin);
  c.set(left, l.chin, 0);
  c.set(left, l.skullTop, 0);
}

export type EyeStyle = "dot" | "tall" | "white" | "glow" | "socket";

/** Eyes (left eye; mirroring adds the right one). `ink` is a flat dark region, `white` flat light. */
export function drawEyes(c: SpriteCanvas, l: FigureLayout, style: EyeStyle, ink: number, white: number, glow: number): void {
  const x = l.headHalf === 5 ? 5 : 5;
  const y = l.eyeRow;
  if (style === "dot") c.set(x + 1, y, ink);
  if (style === "tall") c.rect(x + 1, y - 1, 1, 2, ink);
  if (style === "white") {
    c.set(x, y, white);
    c.set(x + 1, y, ink);
  }
  if (style === "glow") c.rect(x, y, 2, 1, glow);
  if (style === "socket") {
    c.rect(x, y - 1, 2, 2, ink);
    c.set(x + 1, y, glow);
  }
}

export type HairStyle = "short" | "spiky" | "long" | "bangs" | "bald" | "bob";

/** Hair over the skull and, for long styles, down the sides past the chin. */
export function drawHair(c: SpriteCanvas, l: FigureLayout, style: HairStyle, hair: number): void {
  const left = 8 - l.headHalf;
  const t = l.skullTop;
  if (style === "bald") return;
  c.rect(left + 1, t - (style === "spiky" ? 0 : 0), l.headHalf - 1, 2, hair);
  c.rect(left, t + 1, 1, 2, hair);
  if (style === "spiky") {
    for (let x = left; x <= 7; x += 2) c.set(x, t - 1 < 1 ? t : t - 1, hair);
    c.set(left - 1, t + 1, hair);
  }
  if (style === "bangs") c.rect(left + 1, t + 2, l.headHalf - 2, 1, hair);
  if (style === "long") {
    c.rect(left - 1, t + 1, 2, l.chin - t + 2, hair);
    c.set(left, t, hair);
  }
  if (style === "bob") {
    c.rect(left - 1, t + 1, 2, l.chin - t - 1, hair);
    c.set(left + 1, t + 2, hair);
  }
}

export type HatStyle = "none" | "helmet" | "horned" | "wizard" | "crown" | "hood" | "cap" | "band" | "straw";

/** Headgear as a caption names it (null: no hat). */
export const HAT_WORDS: Readonly<Record<HatStyle, SpritePart | null>> = {
  none: null, helmet: "helmet", horned: "horned helmet", wizard: "wizard hat", crown: "crown", hood: "hood", cap: "cap", band: "headband", straw: "straw hat",
};

/** Rows a hat needs above the skull (the layout's `hatRows`). */
export function hatRows(style: HatStyle): number {
  return style === "wizard" ? 3 : style === "horned" || style === "crown" ? 1 : 0;
}

/** Headgear; regions: `hat` main colour, `trim` metal/band/gem colour, `horn` bone. */
export function drawHat(c: SpriteCanvas, l: FigureLayout, style: HatStyle, hat: number, trim: number, horn: number): void {
  const left = 8 - l.headHalf;
  const t = l.skullTop;
  switch (style) {
    case "helmet":
      c.rect(left - 1, t, l.headHalf + 1, 3, hat);
      c.rect(left - 1, t + 3, 1, l.chin - t - 2, hat);
      c.set(left - 1, t, 0);
      c.rect(left, t + 2, 8 - left, 1, trim);
      break;
    case "horned":
      c.rect(left, t, l.headHalf, 3, hat);
      c.set(left, t, 0);
      c.rect(left, t + 2, 8 - left, 1, trim);
      c.set(left - 1, t + 1, horn);
      c.set(left - 2, t, horn);
      c.set(left - 2, t - 1, horn);
      break;
    case "wizard":
      c.rect(left - 2, t + 1, l.headHalf + 2, 1, hat);
      c.rect(left + 1, t - 1, l.headHalf - 1, 2, hat);
      c.rect(left + 2, t - 2, l.headHalf - 2, 1, hat);
      c.set(7, t - 3, hat);
      c.set(6, t - 3, hat);
      c.rect(left + 1, t, l.headHalf - 1, 1, trim);
      break;
    case "crown":
      c.rect(left + 1, t, l.headHalf - 1, 2, trim);
      for (let x = left + 1; x <= 7; x += 2) c.set(x, t - 1, trim);
      c.set(7, t, hat);
      break;
    case "hood":
      c.rect(left - 1, t, l.headHalf + 1, 2, hat);
      c.rect(left - 1, t + 2, 2, l.chin - t, hat);
      c.set(left - 1, t, 0);
      break;
    case "cap":
      c.rect(left, t, l.headHalf, 2, hat);
      c.set(left, t, 0);
      c.rect(left - 1, t + 2, l.headHalf + 1, 1, trim);
      break;
    case "band":
      c.rect(left, t + 1, l.headHalf, 1, trim);
      break;
    case "straw":
      c.rect(left + 1, t, l.headHalf - 1, 2, hat);
      c.rect(Math.max(1, left - 3), t + 2, 8 - Math.max(1, left - 3), 1, hat);
      c.rect(left + 1, t + 1, l.headHalf - 1, 1, trim);
      break;
    case "none":
      break;
  }
}

/** Regions of a torso: shirt, sleeves, hands, belt, buckle, optional chest piece. */
export interface TorsoRegions {
  shirt: number;
  sleeve: number;
  hand: number;
  belt: number;
  buckle: number;
}

/** Torso with arms at the sides, hands at the waist, a belt on the waist row. */
export function drawTorso(c: SpriteCanvas, l: FigureLayout, r: TorsoRegions, thickArms: boolean): number {
  const left = 8 - l.torsoHalf;
  const top = l.chin + 1;
  c.rect(left, top, l.torsoHalf, l.waist - top + 1, r.shirt);
  const armWidth = thickArms ? 2 : 1;
  const armX = left - armWidth;
  c.rect(armX, top + 1, armWidth, l.waist - top - 1, r.sleeve);
  c.rect(armX, l.waist, armWidth, 1, r.hand);
  c.rect(left, l.waist, l.torsoHalf, 1, r.belt);
  c.set(7, l.waist, r.buckle);
  return armX;
}

/** Legs from waist + 1 down to row 14 with a gap on the axis; boots on the last row. */
export function drawLegs(c: SpriteCanvas, l: FigureLayout, pants: number, boots: number): void {
  const left = 8 - l.torsoHalf;
  c.rect(left, l.waist + 1, 7 - left, 14 - l.waist, pants);
  c.rect(left, 14, 7 - left, 1, boots);
  if (14 - l.waist > 2) c.set(7, l.waist + 1, pants);
}

/** A robe or dress flaring from the waist to row 14 instead of legs. */
export function drawSkirt(c: SpriteCanvas, l: FigureLayout, cloth: number, feet: number): void {
  const left = 8 - l.torsoHalf;
  for (let y = l.waist + 1; y <= 14; y++) c.rect(left - Math.min(2, (y - l.waist) >> 1), y, 8 - left + 2, 1, cloth);
  c.rect(left + 1, 14, 2, 1, feet);
}

/** Skin, its blush and its shadow-line colours, for faces. */
export function skinTones(skin: Rgb): { blush: Rgb; mouth: Rgb } {
  return { blush: lighten(0xe86060, 80), mouth: darken(skin, 110) };
}
