/**
 * Colours as packed 0xRRGGBB integers, the curated colour families the sprites draw from, and
 * integer shading (lighter / darker tones with the pixel-art hue shift: highlights warm,
 * shadows cool). Everything is integer math so a seed renders identically everywhere.
 */
import type { Prng } from "./prng";

/** A colour packed as 0xRRGGBB. */
export type Rgb = number;

export const red = (c: Rgb): number => (c >>> 16) & 255;
export const green = (c: Rgb): number => (c >>> 8) & 255;
export const blue = (c: Rgb): number => c & 255;

const clampByte = (v: number): number => (v < 0 ? 0 : v > 255 ? 255 : v);

export function rgb(r: number, g: number, b: number): Rgb {
  return ((clampByte(r) << 16) | (clampByte(g) << 8) | clampByte(b)) >>> 0;
}

/** Moves each channel toward 255 by amount/256 of the way, warming slightly (highlight tone). */
export function lighten(c: Rgb, amount: number): Rgb {
  const up = (v: number): number => v + (((255 - v) * amount) >> 8);
  return rgb(up(red(c)) + (amount >> 4), up(green(c)) + (amount >> 5), up(blue(c)));
}

/** Scales each channel by (256 - amount)/256, keeping a little blue (cool shadow tone). */
export function darken(c: Rgb, amount: number): Rgb {
  const down = (v: number): number => (v * (256 - amount)) >> 8;
  return rgb(down(red(c)), down(green(c)), down(blue(c)) + (amount >> 4));
}

/** Adds a random offset in [-spread, spread] to each channel. */
export function jitter(c: Rgb, prng: Prng, spread: number): Rgb {
  const d = (): number => prng.range(-spread, spread);
  return rgb(red(c) + d(), green(c) + d(), blue(c) + d());
}

/** Shifts all channels by the same offsets (a small palette shift that keeps the hue family). */
export function shift(c: Rgb, dr: number, dg: number, db: number): Rgb {
  return rgb(red(c) + dr, green(c) + dg, blue(c) + db);
}

/** Rec. 601 luma times 1000, in integers: 299 R + 587 G + 114 B. */
export function luma1000(c: Rgb): number {
  return 299 * red(c) + 587 * green(c) + 114 * blue(c);
}

export const SKIN: readonly Rgb[] = [0xf6d1b0, 0xeebb92, 0xd99e74, 0xb87850, 0x8c5a3c, 0xf3c8a8];
export const FANTASY_SKIN: readonly Rgb[] = [0x78b84c, 0x5e9e48, 0x9cc860, 0x7f9cd8, 0xb0a0c8];
export const HAIR: readonly Rgb[] = [
  0x2a2230, 0x5a3a22, 0x8a5a30, 0xb4482c, 0xe8c050, 0xd8d8e0, 0x3c60b0, 0xd860a0, 0x7a48b0,
  0x40a060, 0xe07830,
];
export const CLOTH: readonly Rgb[] = [
  0xd03838, 0xa02040, 0x3468d0, 0x243c90, 0x38a048, 0x22704a, 0x8040b8, 0x20a0a0, 0xe88a20,
  0xe8c830, 0x8a5a34, 0xe070a8, 0x5a5a70,
];
export const METAL: readonly Rgb[] = [0xa8b0c0, 0xc8ccd8, 0xe0b030, 0xc08040, 0x707888];
export const WOOD: readonly Rgb[] = [0x9a6234, 0x7a4a28, 0xb07a40, 0x5e3a22];
export const GEM: readonly Rgb[] = [
  0xe02848, 0x2860e8, 0x28c060, 0xa040e0, 0xf0c020, 0x20c8e0, 0xf060c0,
];
export const CREATURE: readonly Rgb[] = [
  0x58c040, 0x40a8e0, 0xe05050, 0xa060d8, 0xf09030, 0xe868b0, 0x30b8a0, 0x8a6038, 0x9098a8,
  0xe8c840, 0x5070d0,
];
export const OUTLINE: readonly Rgb[] = [0x1c1820, 0x201a18, 0x181c28, 0x241a24, 0x141414];
export const BACKGROUND: readonly Rgb[] = [
  0xfaf4e4, 0xeeeeee, 0xfae6ec, 0xeee6f6, 0xe6f4ea, 0xe6eef8, 0xfaf6e0, 0xfaece0, 0xf2f0ea,
];

/** A base colour picked from a family and nudged a little, so bases of one family differ. */
export function pickColour(prng: Prng, family: readonly Rgb[], spread = 10): Rgb {
  return jitter(prng.pick(family), prng, spread);
}
