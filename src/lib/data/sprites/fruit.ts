/**
 * Class 2, food, part 1: fruit and vegetables (apple, orange, lemon, pear, cherries, grapes,
 * banana, strawberry, watermelon slice, carrot). Round things use "round" shading and a flat
 * highlight pixel; stems and leaves are small separate regions.
 */
import { SpriteCanvas } from "./canvas";
import type { Prng } from "./prng";
import { darken, jitter, lighten, pickColour, type Rgb } from "./palette";

export type FruitKind = "apple" | "orange" | "lemon" | "pear" | "cherries" | "grapes" | "banana" | "strawberry" | "watermelon" | "carrot";

export const FRUIT_KINDS: readonly FruitKind[] = ["apple", "orange", "lemon", "pear", "cherries", "grapes", "banana", "strawberry", "watermelon", "carrot"];

const LEAF = [0x48a838, 0x3c9040, 0x68b830];
const STEM = [0x7a4a28, 0x5e3a22];

/** Draws one fruit or vegetable of the given kind. */
export function drawFruit(prng: Prng, kind: FruitKind): SpriteCanvas {
  const c = new SpriteCanvas();
  const leaf = c.region(pickColour(prng, LEAF, 8));
  const stem = c.region(pickColour(prng, STEM, 6));
  const shine = (colour: Rgb): number => c.region(lighten(colour, 200), "flat");
  let colourRegions: number[] = [];
  switch (kind) {
    case "apple":
    case "orange":
    case "lemon": {
      const colour = pickColour(prng, kind === "apple" ? [0xd82828, 0xe03838, 0x78c030, 0xe8c030] : kind === "orange" ? [0xf08820, 0xf07818] : [0xf0d830, 0xe8e040]);
      const body = c.region(colour, "round");
      colourRegions = [body];
      const wide = kind === "lemon" ? 12 : prng.range(11, 13);
      c.ellipse(16, 19, wide, kind === "lemon" ? 9 : 11, body);
      if (kind === "lemon") {
        c.set(1, 9, body);
        c.set(14, 9, body);
      }
      if (kind === "apple") {
        c.set(7, 4, 0);
        c.set(8, 4, 0);
      }
      c.rect(8, 2, 1, kind === "apple" ? 3 : 2, stem);
      c.rect(9, 2, 2, 1, leaf);
      c.set(10, 1, leaf);
      c.rect(4, 6, 1, 2, shine(colour));
      break;
    }
    case "pear": {
      const colour = pickColour(prng, [0xa8c838, 0xd8c840, 0x98b830]);
      const body = c.region(colour, "round");
      colourRegions = [body];
      c.ellipse(16, 21, 12, 8, body);
      c.ellipse(16, 12, 6, 8, body);
      c.rect(5, 6, 6, 3, body);
      c.rect(8, 1, 1, 2, stem);
      c.rect(9, 1, 2, 1, leaf);
      c.rect(5, 9, 1, 2, shine(colour));
      break;
    }
    case "cherries": {
      const colour = pickColour(prng, [0xd01830, 0xb81040, 0xe02838]);
      const a = c.region(colour, "round");
      const b = c.region(colour, "round");
      colourRegions = [a, b];
      c.line(4, 7, 9, 2, stem);
      c.line(11, 7, 9, 2, stem);
      c.ellipse(9, 21, 7, 7, a);
      c.ellipse(23, 22, 7, 7, b);
      c.rect(10, 1, 3, 2, leaf);
      c.set(3, 9, shine(colour));
      c.set(10, 10, shine(colour));
      break;
    }
    case "grapes": {
      const colour = pickColour(prng, [0x7a3aa0, 0x6a2a88, 0x88c040, 0x9a3060]);
      // Hex-packed 4x4 grapes in an inverted triangle, each with its own light, mid and dark.
      const light = c.region(lighten(colour, 110), "flat");
      const mid = c.region(colour, "flat");
      const dark = c.region(darken(colour, 90), "flat");
      colourRegions = [mid];
      const grape = [".lm.", "lmmd", "mmdd", ".dd."];
      const wide = prng.chance(1, 2);
      const rows = wide ? [[1, 5, 9], [3, 7, 11], [3, 7], [5]] : [[2, 6, 10], [4, 8], [2, 6, 10], [6]];
      rows.forEach((xs, row) => {
        for (const x of xs) c.stamp(x, 2 + row * 3, grape, { l: light, m: mid, d: dark });
      });
      c.rect(7, 1, 1, 3, stem);
      c.rect(8, 1, 3, 2, leaf);
      break;
    }
    case "banana": {
      const colour = pickColour(prng, [0xf8d838, 0xf0c828]);
      const body = c.region(colour);
      const tip = c.region(0x5a4028, "flat");
      colourRegions = [body];
      // A crescent bowing to the lower right, tips up-right and left.
      const banana = [
        "............kk",
        "...........yyk",
        "..........yyyy",
        ".........yyyyy",
        "........yyyyy.",
        "......yyyyyy..",
        "....yyyyyyy...",
        ".yyyyyyyyy....",
        "kyyyyyyyy.....",
        ".yyyyyy.......",
      ];
      const y0 = prng.range(2, 4);
      c.stamp(1, y0, banana, { y: body, k: tip });
      if (prng.chance(1, 2)) c.stamp(1, y0 + 2, banana.slice(6), { y: c.region(colour) });
      break;
    }
    case "strawberry": {
      const colour = pickColour(prng, [0xe02030, 0xd81838]);
      const body = c.region(colour, "round");
      colourRegions = [body];
      for (let y = 4; y <= 14; y++) {
        const half = y < 7 ? 6 : Math.max(1, 6 - ((y - 7) * 5) / 7);
        c.rect(8 - Math.round(half), y, 2 * Math.round(half), 1, body);
      }
      const seed = c.region(0xf8e070, "flat");
      for (const [x, y] of [[4, 6], [8, 6], [11, 7], [6, 9], [10, 10], [7, 12], [3, 8]]) c.set(x, y, seed);
      c.rect(4, 3, 8, 2, leaf);
      c.set(3, 4, leaf);
      c.set(12, 4, leaf);
      c.rect(7, 1, 2, 2, stem);
      break;
    }
    case "watermelon": {
      const rind = c.region(pickColour(prng, [0x38a040, 0x2e8a38], 6));
      const pith = c.region(0xf0f0d8);
      const flesh = c.region(pickColour(prng, [0xf04050, 0xe83848, 0xf8a030], 6));
      colourRegions = [flesh, rind];
      c.ellipse(16, 6, 14, 23, rind);
      c.ellipse(16, 6, 12, 20, pith);
      c.ellipse(16, 6, 11, 18, flesh);
      c.rect(0, 0, 16, 4, 0);
      const seed = c.region(0x201818, "flat");
      for (const [x, y] of [[5, 6], [8, 8], [11, 6], [7, 5], [9, 5]]) c.set(x, y, seed);
      break;
    }
    case "carrot": {
      const colour = pickColour(prng, [0xf07818, 0xe86810]);
      const body = c.region(colour);
      colourRegions = [body];
      for (let i = 0; i < 10; i++) {
        const w = Math.max(1, 4 - (i >> 1) + 1);
        c.rect(2 + i, 13 - i - w + 1, w, w, body);
      }
      c.line(11, 4, 14, 1, leaf);
      c.line(11, 3, 11, 1, leaf);
      c.line(12, 4, 14, 4, leaf);
      break;
    }
  }
  if (prng.chance(1, 2)) c.flipHorizontal();
  c.describe({ family: "fruit", kind, facing: null, colourRegions, parts: [] });
  return c;
}

/** A colour from a small list with a little jitter (re-exported for meals). */
export function foodColour(prng: Prng, options: readonly Rgb[]): Rgb {
  return jitter(prng.pick(options), prng, 8);
}
