/**
 * The five sprite classes, with the course's indices and class balance, and which drawing
 * families make each class.
 */
import type { SpriteCanvas } from "./canvas";
import type { Prng } from "./prng";
import { drawHero } from "./hero";
import { drawMonster, MONSTER_WEIGHTS } from "./monsters";
import { drawAnimal, ANIMAL_WEIGHTS } from "./animals";
import { drawVillager, VILLAGER_WEIGHTS } from "./villagers";
import { drawFruit, FRUIT_KINDS } from "./fruit";
import { drawMeal, MEAL_KINDS } from "./meals";
import { drawWeapon, WEAPON_WEIGHTS } from "./weapons";
import { drawMagic, MAGIC_WEIGHTS } from "./magic";
import { drawProfile } from "./profile";

/** Class names by index, as in the course: 0 hero, 1 non-hero, 2 food, 3 spells & weapons, 4 side-facing. */
export const SPRITE_CLASS_NAMES = ["hero", "non-hero", "food", "spells & weapons", "side-facing"] as const;
export const SPRITE_CLASS_COUNT = SPRITE_CLASS_NAMES.length;

/**
 * The course's class shares in tenths of a percent (8.9 / 36.2 / 6.7 / 39.2 / 8.9 %, which sum
 * to 99.9 after the course's rounding; `balancedClassCounts` normalises by their sum).
 */
export const COURSE_CLASS_PERMILLE: readonly number[] = [89, 362, 67, 392, 89];

/** The course's size: 1,788 base sprites x 50 variants = 89,400 sprites. */
export const COURSE_BASE_COUNT = 1788;
export const COURSE_VARIANTS_PER_BASE = 50;

/**
 * Splits `total` into per-class counts proportional to `weights` by the largest-remainder
 * method (floors first, then +1 to the largest fractional parts, ties to the lower class).
 * For 1,788 bases this gives 159 / 648 / 120 / 702 / 159.
 */
export function balancedClassCounts(total: number, weights: readonly number[] = COURSE_CLASS_PERMILLE): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  const counts = weights.map((w) => Math.floor((total * w) / sum));
  const order = weights.map((w, k) => ({ k, remainder: (total * w) % sum })).sort((a, b) => b.remainder - a.remainder || a.k - b.k);
  let missing = total - counts.reduce((a, b) => a + b, 0);
  for (const { k } of order) {
    if (missing-- <= 0) break;
    counts[k] += 1;
  }
  return counts;
}

/** Draws one base sprite of class `classIndex` (a region map; render.ts shades and outlines it). */
export function drawClassSprite(classIndex: number, prng: Prng): SpriteCanvas {
  switch (classIndex) {
    case 0:
      return drawHero(prng);
    case 1: {
      const family = prng.weighted({ monster: 7, animal: 8, villager: 5 });
      if (family === "monster") return drawMonster(prng, prng.weighted(MONSTER_WEIGHTS));
      if (family === "animal") return drawAnimal(prng, prng.weighted(ANIMAL_WEIGHTS));
      return drawVillager(prng, prng.weighted(VILLAGER_WEIGHTS));
    }
    case 2:
      return prng.chance(2, 5) ? drawFruit(prng, prng.pick(FRUIT_KINDS)) : drawMeal(prng, prng.pick(MEAL_KINDS));
    case 3:
      return prng.chance(1, 2) ? drawWeapon(prng, prng.weighted(WEAPON_WEIGHTS)) : drawMagic(prng, prng.weighted(MAGIC_WEIGHTS));
    case 4:
      return drawProfile(prng);
    default:
      throw new Error(`drawClassSprite: class index must be 0..${SPRITE_CLASS_COUNT - 1}, got ${classIndex}.`);
  }
}
