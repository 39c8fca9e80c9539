/**
 * Class 2, food, part 2: prepared food and drinks (bread, cheese, drumstick, fish, fried egg,
 * cake slice, cupcake, donut, ice cream, pie, burger, pizza slice, mug, bottle).
 */
import { SpriteCanvas } from "./canvas";
import type { Prng } from "./prng";
import type { SpritePart } from "./traits";
import { CLOTH, GEM, darken, lighten, pickColour } from "./palette";

export type MealKind = "bread" | "cheese" | "drumstick" | "fish" | "egg" | "cake" | "cupcake" | "donut" | "icecream" | "pie" | "burger" | "pizza" | "mug" | "bottle";

export const MEAL_KINDS: readonly MealKind[] = ["bread", "cheese", "drumstick", "fish", "egg", "cake", "cupcake", "donut", "icecream", "pie", "burger", "pizza", "mug", "bottle"];

const CRUST = [0xc88040, 0xd89850, 0xb87038];
const ICING = [0xf088b0, 0xf8f0f0, 0x8a5030, 0x88c8f0, 0xc898e8];

/** Draws one meal or drink of the given kind. */
export function drawMeal(prng: Prng, kind: MealKind): SpriteCanvas {
  const c = new SpriteCanvas();
  const flat = (colour: number): number => c.region(colour, "flat");
  let colourRegions: number[] = [];
  const parts: SpritePart[] = [];
  switch (kind) {
    case "bread": {
      const crust = c.region(pickColour(prng, CRUST, 8), "round");
      colourRegions = [crust];
      c.ellipse(16, 14, 14, 9, crust);
      c.rect(2, 7, 12, 6, crust);
      const score = flat(darken(c.regions[crust].colour, 70));
      for (let x = 4; x <= 10; x += 3) c.line(x, 7, x + 2, 5, score);
      break;
    }
    case "cheese": {
      const cheese = c.region(pickColour(prng, [0xf8d040, 0xf0c030, 0xf8e070], 6));
      const rind = c.region(lighten(c.regions[cheese].colour, 60));
      colourRegions = [cheese];
      for (let y = 4; y <= 12; y++) c.rect(1 + Math.max(0, (12 - y) - 2) * 0, y, Math.min(14, 3 + (y - 4) * 2), 1, cheese);
      c.rect(1, 4, 14, 3, 0);
      for (let y = 4; y <= 6; y++) c.rect(14 - (y - 3) * 4, y, (y - 3) * 4, 1, rind);
      c.rect(1, 7, 14, 1, rind);
      const hole = flat(darken(c.regions[cheese].colour, 50));
      for (const [x, y] of [[4, 9], [9, 10], [12, 8], [6, 11]]) c.set(x, y, hole);
      break;
    }
    case "drumstick": {
      const meat = c.region(pickColour(prng, [0xb86830, 0xa05828, 0xc87838], 6), "round");
      const bone = c.region(0xf4ecdc);
      colourRegions = [meat];
      c.ellipse(14, 13, 12, 11, meat);
      c.line(9, 9, 12, 12, bone);
      c.line(10, 9, 12, 11, bone);
      c.rect(12, 12, 2, 2, bone);
      c.set(14, 11, bone);
      c.set(11, 14, bone);
      c.rect(4, 4, 1, 2, flat(lighten(c.regions[meat].colour, 150)));
      break;
    }
    case "fish": {
      const scale = c.region(pickColour(prng, [0x6898c8, 0xe09050, 0xa8b0b8, 0xe87060], 8), "round");
      colourRegions = [scale];
      c.ellipse(14, 16, 12, 8, scale);
      c.rect(12, 6, 1, 4, scale);
      c.rect(13, 5, 2, 6, scale);
      c.set(13, 8, 0);
      c.rect(4, 6, 1, 1, flat(0x181818));
      c.set(3, 6, flat(0xf8f8f8));
      c.rect(6, 9, 4, 1, flat(darken(c.regions[scale].colour, 60)));
      break;
    }
    case "egg": {
      const white = c.region(0xf8f8f0);
      const yolk = c.region(pickColour(prng, [0xf8b820, 0xf8c830], 6), "round");
      colourRegions = [white, yolk];
      c.ellipse(16, 17, 14, 11, white);
      c.ellipse(10, 22, 9, 7, white);
      c.ellipse(22, 12, 8, 7, white);
      c.ellipse(15, 15, 6, 6, yolk);
      c.set(6, 6, flat(0xfff8e0));
      break;
    }
    case "cake": {
      const sponge = c.region(pickColour(prng, [0xf0d090, 0x8a5030, 0xf8e0b0], 6));
      const cream = c.region(pickColour(prng, ICING, 6));
      colourRegions = [cream, sponge];
      c.rect(2, 7, 12, 7, sponge);
      c.rect(2, 6, 12, 2, cream);
      c.rect(2, 10, 12, 1, cream);
      c.rect(2, 5, 12, 1, cream);
      c.rect(1, 5, 1, 1, 0);
      c.rect(7, 2, 3, 3, c.region(pickColour(prng, [0xe02030, 0xd01828], 6), "round"));
      c.set(8, 1, flat(0x48a038));
      break;
    }
    case "cupcake": {
      const paper = c.region(pickColour(prng, CLOTH, 8));
      const icing = c.region(pickColour(prng, ICING, 6), "round");
      colourRegions = [icing, paper];
      for (let y = 9; y <= 14; y++) c.rect(3 + ((y - 9) >> 1), y, 10 - 2 * ((y - 9) >> 1), 1, paper);
      for (let x = 4; x <= 11; x += 2) c.rect(x, 10, 1, 4, flat(darken(c.regions[paper].colour, 50)));
      c.ellipse(16, 15, 12, 6, icing);
      c.ellipse(16, 10, 8, 5, icing);
      c.rect(7, 1, 2, 2, c.region(0xe02030, "round"));
      break;
    }
    case "donut": {
      const dough = c.region(pickColour(prng, CRUST, 6), "round");
      const icing = c.region(pickColour(prng, ICING, 6), "round");
      colourRegions = [icing, dough];
      c.ellipse(16, 17, 14, 12, dough);
      c.ellipse(16, 15, 12, 8, icing);
      c.ellipse(16, 16, 4, 3, 0);
      const sprinkle = [flat(0xf8f8f8), flat(pickColour(prng, GEM)), flat(0x48b0e0)];
      [[4, 7], [10, 5], [12, 9], [5, 11], [8, 4], [3, 9]].forEach(([x, y], i) => c.paint(x, y, sprinkle[i % 3]));
      break;
    }
    case "icecream": {
      // A waffle cone (rows 10..14, narrowing to a tip) under a scoop, a cherry on top.
      const cone = c.region(0xd89848);
      [4, 3, 3, 2, 1].forEach((half, i) => c.rect(8 - half, 10 + i, 2 * half, 1, cone));
      const waffle = flat(0xa86828);
      for (const [x, y] of [[5, 11], [7, 11], [9, 11], [6, 12], [8, 12], [7, 13]]) c.paint(x, y, waffle);
      const scoop = c.region(pickColour(prng, ICING, 6), "round");
      colourRegions = [scoop];
      c.ellipse(16, 11, 11, 8, scoop);
      c.rect(3, 9, 10, 1, scoop);
      if (prng.chance(1, 2)) c.rect(4, 10, 1, 1, scoop); // a drip
      c.rect(7, 1, 2, 2, c.region(0xe02030, "round"));
      break;
    }
    case "pie": {
      const crust = c.region(pickColour(prng, CRUST, 6));
      const fill = c.region(pickColour(prng, [0xc02838, 0x7040a0, 0xe0a040], 6));
      colourRegions = [fill, crust];
      c.ellipse(16, 18, 14, 9, fill);
      c.rect(1, 11, 14, 2, crust);
      c.ellipse(16, 24, 14, 5, crust);
      for (let x = 3; x <= 12; x += 3) c.line(x, 6, x + 1, 11, crust);
      c.rect(3, 8, 10, 1, crust);
      break;
    }
    case "burger": {
      const bun = c.region(pickColour(prng, CRUST, 6), "round");
      colourRegions = [bun];
      c.ellipse(16, 13, 14, 9, bun);
      c.rect(1, 7, 14, 1, bun);
      c.rect(1, 8, 14, 1, c.region(0x58b838));
      c.rect(2, 9, 12, 2, c.region(pickColour(prng, [0x6a3a20, 0x7a4428], 6)));
      if (prng.chance(1, 2)) {
        c.rect(1, 9, 14, 1, c.region(0xf8c830));
        parts.push("cheese");
      }
      c.rect(2, 11, 12, 3, c.region(c.regions[bun].colour));
      for (const [x, y] of [[5, 3], [9, 2], [11, 4], [7, 5]]) c.set(x, y, flat(0xfaf0d0));
      break;
    }
    case "pizza": {
      const cheese = c.region(pickColour(prng, [0xf8d050, 0xf0c040], 6));
      const crust = c.region(pickColour(prng, CRUST, 6));
      colourRegions = [cheese, crust];
      for (let y = 3; y <= 14; y++) c.rect(1 + ((y - 3) >> 1) * 0, y, Math.max(1, 14 - (y - 3)), 1, cheese);
      c.rect(1, 2, 14, 2, crust);
      const pepperoni = c.region(0xc83028, "round");
      for (const [x, y] of [[3, 5], [8, 5], [4, 9]]) c.rect(x, y, 2, 2, pepperoni);
      break;
    }
    case "mug":
    case "bottle": {
      const drink = c.region(pickColour(prng, [0xf0b030, 0x8a4020, 0xd03040, 0x60b0e0, 0xf8f8f0, 0x58b848], 8));
      if (kind === "mug") {
        const wood = c.region(pickColour(prng, [0x9a6234, 0xa8b0c0, 0x7a4a28], 6));
        colourRegions = [wood];
        c.rect(2, 4, 9, 11, wood);
        c.rect(3, 3, 7, 2, c.region(0xfaf8f0, "round"));
        c.rect(11, 6, 3, 6, wood);
        c.rect(11, 8, 2, 2, 0);
        c.rect(2, 6, 9, 1, flat(darken(c.regions[wood].colour, 60)));
        c.rect(2, 12, 9, 1, flat(darken(c.regions[wood].colour, 60)));
      } else {
        const glass = c.region(pickColour(prng, [0x58a060, 0x6080c0, 0xe8f0f0, 0x8a5a34], 6));
        colourRegions = [drink, glass];
        c.rect(6, 1, 4, 2, c.region(0xa87040));
        c.rect(6, 3, 4, 3, glass);
        c.ellipse(16, 19, 12, 10, glass);
        c.rect(4, 10, 8, 3, drink);
        c.rect(4, 8, 1, 3, flat(0xf8f8f8));
      }
      break;
    }
  }
  if (prng.chance(1, 2)) c.flipHorizontal();
  c.describe({ family: "food", kind, facing: null, colourRegions, parts });
  return c;
}
