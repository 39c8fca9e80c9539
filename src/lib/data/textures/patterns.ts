/**
 * The texture classes as coverage maps: each pattern draws its scale, angle and phase from a
 * seeded stream and returns, for every pixel of a size x size image, how much of it the
 * foreground covers, 0..1 (edges anti-aliased over one pixel by a signed distance in pixels).
 *
 * Only +, -, *, /, sqrt, floor and round are used (IEEE-exact in every engine); sine is a
 * polynomial (`sinTurns`) rather than Math.sin, whose last bits an engine may choose, so a seed
 * makes the same bytes everywhere, as with the sprites (sprites/prng.ts).
 */
import { Prng, mix32 } from "../sprites/prng";

/** Coverage of the foreground per pixel, row-major, size * size values in [0, 1]. */
export type CoverageMap = Float64Array;
export type Pattern = (prng: Prng, size: number) => CoverageMap;

const clamp01 = (v: number): number => (v < 0 ? 0 : v > 1 ? 1 : v);
const frac = (v: number): number => v - Math.floor(v);
/** A uniform draw in [lo, hi] on a grid of `steps` + 1 values (integer draws keep it exact). */
const draw = (prng: Prng, lo: number, hi: number, steps = 64): number => lo + ((hi - lo) * prng.int(steps + 1)) / steps;

/**
 * sin(2 pi turns), from its Taylor series to degree 13 on [-pi/2, pi/2] after reducing by symmetry
 * (error below 1e-7, a thousandth of a grey level).
 */
export function sinTurns(turns: number): number {
  const r = frac(turns);
  const z = 2 * Math.PI * (r < 0.25 ? r : r < 0.75 ? 0.5 - r : r - 1);
  const z2 = z * z;
  return z * (1 + (z2 / -6) * (1 + (z2 / -20) * (1 + (z2 / -42) * (1 + (z2 / -72) * (1 + (z2 / -110) * (1 + z2 / -156))))));
}

export const cosTurns = (turns: number): number => sinTurns(turns + 0.25);

/** Fills a map from a function of the pixel centre (x + 0.5, y + 0.5), rotated by `angle` turns. */
function fieldMap(size: number, angle: number, field: (u: number, v: number) => number): CoverageMap {
  const c = cosTurns(angle);
  const s = sinTurns(angle);
  const map = new Float64Array(size * size);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const px = x + 0.5 - size / 2;
      const py = y + 0.5 - size / 2;
      map[y * size + x] = clamp01(field(px * c + py * s, -px * s + py * c));
    }
  }
  return map;
}

/** Straight stripes at any angle: period 3-10 px, the foreground 30-70 % of it. */
export const stripes: Pattern = (prng, size) => {
  const period = draw(prng, 3, 10);
  const duty = draw(prng, 0.3, 0.7);
  const angle = draw(prng, 0, 0.5, 360);
  const phase = draw(prng, 0, 1);
  return fieldMap(size, angle, (u) => {
    const f = frac(u / period + phase);
    const inside = f < duty ? Math.min(f, duty - f) : -Math.min(f - duty, 1 - f);
    return inside * period + 0.5;
  });
};

/** A checkerboard of 3-9 px squares, turned by up to 90 degrees. */
export const checks: Pattern = (prng, size) => {
  const cell = draw(prng, 3, 9);
  const angle = draw(prng, 0, 0.25, 90);
  const phaseU = draw(prng, 0, 2);
  const phaseV = draw(prng, 0, 2);
  return fieldMap(size, angle, (u, v) => {
    const a = u / cell + phaseU;
    const b = v / cell + phaseV;
    const odd = (Math.floor(a) + Math.floor(b)) & 1;
    const edge = Math.min(Math.abs(a - Math.round(a)), Math.abs(b - Math.round(b))) * cell;
    return 0.5 + (odd ? edge : -edge);
  });
};

/** Round dots on a square or hexagonal lattice: spacing 5-10 px, radius 18-35 % of it. */
export const dots: Pattern = (prng, size) => {
  const spacing = draw(prng, 5, 10);
  const radius = spacing * draw(prng, 0.18, 0.35);
  const hexagonal = prng.chance(1, 2);
  const angle = draw(prng, 0, 0.25, 90);
  const phaseU = draw(prng, 0, 1);
  const phaseV = draw(prng, 0, 1);
  const rowHeight = hexagonal ? Math.sqrt(3) / 2 : 1;
  return fieldMap(size, angle, (u, v) => {
    const a = u / spacing + phaseU;
    const b = v / spacing / rowHeight + phaseV;
    let nearest = Infinity;
    for (const row of [Math.floor(b), Math.floor(b) + 1]) {
      const shift = hexagonal && row & 1 ? 0.5 : 0;
      const du = a - shift - Math.round(a - shift);
      const dv = (b - row) * rowHeight;
      nearest = Math.min(nearest, Math.sqrt(du * du + dv * dv) * spacing);
    }
    return radius - nearest + 0.5;
  });
};

/** Running-bond bricks 4-8 px high, 1.8-3 times as long, 1-2 px mortar, each brick its own shade. */
export const bricks: Pattern = (prng, size) => {
  const height = draw(prng, 4, 8);
  const width = height * draw(prng, 1.8, 3);
  const mortar = draw(prng, 1, 2, 4);
  const angle = prng.chance(1, 4) ? 0.25 : 0;
  const phaseU = draw(prng, 0, 8);
  const phaseV = draw(prng, 0, 8);
  const shadeSeed = prng.nextUint32();
  return fieldMap(size, angle, (u, v) => {
    const b = v + phaseV * height;
    const row = Math.floor(b / height);
    const a = u + phaseU * width + (row & 1 ? width / 2 : 0);
    const column = Math.floor(a / width);
    const du = a - column * width;
    const dv = b - row * height;
    const inside = Math.min(du, width - du, dv, height - dv) - mortar / 2;
    const shade = 0.7 + (0.3 * mix32((shadeSeed ^ Math.imul(row, 0x9e3779b1) ^ Math.imul(column, 0x85ebca6b)) >>> 0)) / 4294967296;
    return clamp01(inside + 0.5) * shade;
  });
};

/** Soft sine bands (period 4-10 px) bent by a sine across them (wavelength 8-28 px, 1-4 px). */
export const waves: Pattern = (prng, size) => {
  const period = draw(prng, 4, 10);
  const wavelength = draw(prng, 8, 28);
  const amplitude = draw(prng, 1, 4);
  const angle = draw(prng, 0, 0.5, 360);
  const bendPhase = draw(prng, 0, 1);
  const phase = draw(prng, 0, 1);
  return fieldMap(size, angle, (u, v) => 0.5 + 0.5 * sinTurns((v + amplitude * sinTurns(u / wavelength + bendPhase)) / period + phase));
};

/** Smoothstep interpolation weight, 3t^2 - 2t^3 (value noise without grid-line creases). */
const smooth = (t: number): number => t * t * (3 - 2 * t);

/**
 * Fractal value noise: 1-4 octaves of random values on grids of 3-14 px (halving per octave,
 * each half the weight), smoothly interpolated, then stretched to fill 0..1.
 */
export const noise: Pattern = (prng, size) => {
  const scale = draw(prng, 3, 14);
  const octaves = prng.range(1, 4);
  const map = new Float64Array(size * size);
  for (let octave = 0; octave < octaves; octave++) {
    const cell = scale / 2 ** octave;
    const weight = 1 / 2 ** octave;
    const cells = Math.ceil(size / cell) + 1;
    const values = Float64Array.from({ length: (cells + 1) * (cells + 1) }, () => prng.nextUint32() / 4294967296);
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const a = (x + 0.5) / cell;
        const b = (y + 0.5) / cell;
        const i = Math.floor(a);
        const j = Math.floor(b);
        const s = smooth(a - i);
        const t = smooth(b - j);
        const at = (di: number, dj: number): number => values[(j + dj) * (cells + 1) + i + di];
        const top = at(0, 0) + s * (at(1, 0) - at(0, 0));
        const bottom = at(0, 1) + s * (at(1, 1) - at(0, 1));
        map[y * size + x] += weight * (top + t * (bottom - top));
      }
    }
  }
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of map) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  for (let p = 0; p < map.length; p++) map[p] = hi > lo ? (map[p] - lo) / (hi - lo) : 0.5;
  return map;
};
