/**
 * Class 3, spells & weapons, part 1: weapons (sword, dagger, spear on the diagonal; axe, hammer,
 * bow upright; shield). Blades carry explicit light/dark edges (a 1-2 px blade is too thin for
 * automatic shading). The diagonal runs from the grip at the lower left to the tip at the upper
 * right; half the sprites are mirrored.
 */
import { SpriteCanvas } from "./canvas";
import type { Prng } from "./prng";
import type { SpritePart } from "./traits";
import { CLOTH, GEM, METAL, WOOD, darken, lighten, pickColour } from "./palette";

export type WeaponKind = "sword" | "dagger" | "spear" | "axe" | "hammer" | "bow" | "shield";

export const WEAPON_WEIGHTS: Readonly<Record<WeaponKind, number>> = {
  sword: 5, dagger: 2, spear: 2, axe: 3, hammer: 2, bow: 2, shield: 3,
};

const BLADE = [0xd0d8e8, 0xb8c4d8, 0xe8e0a0, 0x90e0f0, 0xe89880];

/** Draws one weapon of the given kind. */
export function drawWeapon(prng: Prng, kind: WeaponKind): SpriteCanvas {
  const c = new SpriteCanvas();
  let colourRegions: number[] = [];
  const parts: SpritePart[] = [];
  switch (kind) {
    case "sword":
    case "dagger": {
      const tip = kind === "dagger" ? prng.range(9, 10) : prng.range(12, 13);
      const wide = kind === "sword" && prng.chance(1, 3);
      colourRegions = drawBlade(c, prng, tip, wide);
      if (wide) parts.push("broad blade");
      break;
    }
    case "spear": {
      const shaft = c.region(pickColour(prng, WOOD, 6));
      c.line(1, 14, 10, 5, shaft);
      c.line(2, 14, 10, 6, c.region(darken(c.regions[shaft].colour, 50), "flat"));
      const head = c.region(pickColour(prng, BLADE, 6));
      colourRegions = [head, shaft];
      c.stamp(9, 1, ["....hh", "...hhh", "..hhhh", ".hhhh.", "..hh.."], { h: head });
      c.line(10, 4, 13, 1, c.region(lighten(c.regions[head].colour, 120), "flat"));
      if (prng.chance(1, 2)) {
        c.rect(8, 6, 2, 2, c.region(pickColour(prng, CLOTH)));
        parts.push("pennant");
      }
      break;
    }
    case "axe":
    case "hammer": {
      const wood = c.region(pickColour(prng, WOOD, 6));
      c.rect(7, 3, 2, 12, wood);
      const metal = c.region(pickColour(prng, METAL, 6), "round");
      colourRegions = [metal, wood];
      if (kind === "axe") {
        const double = prng.chance(1, 3);
        c.stamp(9, 1, ["..b", ".bbb", "bbbbb", "bbbbb", "bbbbb", ".bbb", "..b"], { b: metal });
        if (double) {
          c.stamp(2, 1, ["...b", "..bbb", "bbbbb", "bbbbb", "bbbbb", "..bbb", "...b"], { b: c.region(c.regions[metal].colour, "round") });
          parts.push("double head");
        }
        c.rect(7, 1, 2, 2, c.region(darken(c.regions[metal].colour, 40)));
      } else {
        c.rect(2, 2, 12, 5, metal);
        c.rect(2, 2, 1, 1, 0);
        c.rect(13, 6, 1, 1, 0);
        c.rect(6, 2, 1, 5, c.region(pickColour(prng, GEM, 8), "flat"));
        c.rect(9, 2, 1, 5, c.region(darken(c.regions[metal].colour, 60), "flat"));
      }
      c.rect(7, 12, 2, 1, c.region(pickColour(prng, CLOTH), "flat"));
      break;
    }
    case "bow": {
      const wood = c.region(pickColour(prng, WOOD, 6));
      colourRegions = [wood];
      c.stamp(3, 1, ["bbb", "..bb", "...b", "...bb", "....b", "....b", "....b", "....b", "....b", "...bb", "...b", "..bb", "bbb"], { b: wood });
      c.rect(3, 2, 1, 11, c.region(0xf0ece0, "flat"));
      if (prng.chance(2, 3)) {
        const shaft = c.region(0xa87848, "flat");
        c.rect(2, 7, 11, 1, shaft);
        c.stamp(12, 5, ["h.", "hh", "hhh", "hh", "h."], { h: c.region(pickColour(prng, METAL, 6)) });
        c.stamp(1, 6, ["f", ".", "f"], { f: c.region(pickColour(prng, CLOTH), "flat") });
        parts.push("arrow");
      }
      break;
    }
    case "shield":
      colourRegions = drawShield(c, prng, parts);
      break;
  }
  if (prng.chance(1, 2)) c.flipHorizontal();
  c.describe({ family: "weapon", kind, facing: null, colourRegions, parts });
  return c;
}

/**
 * A sword along the diagonal: blade pixels (k, 15 - k) and (k + 1, 15 - k) (light, dark) from
 * just above the guard to the tip k = `tip`, a crossguard across the diagonal, grip and pommel.
 */
function drawBlade(c: SpriteCanvas, prng: Prng, tip: number, wide: boolean): number[] {
  const bladeColour = pickColour(prng, BLADE, 6);
  const light = c.region(lighten(bladeColour, 120), "flat");
  const mid = c.region(bladeColour, "flat");
  const dark = c.region(darken(bladeColour, 70), "flat");
  const guard = c.region(pickColour(prng, METAL, 6));
  const grip = c.region(pickColour(prng, [...WOOD, ...CLOTH], 6));
  const gem = c.region(pickColour(prng, GEM, 8), "flat");
  const g = 4; // the guard's diagonal position
  for (let k = g + 1; k <= tip; k++) {
    c.set(k, 15 - k, light);
    c.set(k + 1, 15 - k, wide ? mid : dark);
    if (wide && k < tip) c.set(k + 2, 15 - k, dark);
  }
  c.set(tip + 1, 14 - tip, light);
  const guardLength = prng.range(2, 3);
  for (let j = -guardLength; j <= guardLength; j++) {
    c.set(g + j, 15 - g + j, guard);
    c.set(g + j + 1, 15 - g + j, guard);
  }
  c.set(g, 15 - g, gem);
  c.line(g - 1, 16 - g, 2, 13, grip);
  c.rect(1, 13, 2, 2, prng.chance(1, 2) ? gem : guard);
  // Its colours: the blade's own tone where it is wide, its bright edge where it is thin.
  return [mid, light, guard];
}

/** A heater shield with a border and an emblem (cross, band, chevron, disc); returns its colour regions. */
function drawShield(c: SpriteCanvas, prng: Prng, parts: SpritePart[]): number[] {
  const field = c.region(pickColour(prng, CLOTH, 8));
  const border = c.region(pickColour(prng, METAL, 6));
  const emblem = c.region(pickColour(prng, [0xf0f0e8, 0xe8c030, ...CLOTH], 6));
  const shape = ["bbbbbbb", "bffffff", "bffffff", "bffffff", "bffffff", "bffffff", "bffffff", "bffffff", ".bfffff", ".bfffff", "..bffff", "...bfff", "....bbb"];
  c.stamp(1, 1, shape, { b: border, f: field });
  const style = prng.pick(["cross", "band", "chevron", "disc"] as const);
  if (style === "cross") {
    c.rect(6, 3, 2, 9, emblem);
    c.rect(3, 5, 5, 2, emblem);
  } else if (style === "band") {
    c.line(2, 2, 7, 7, emblem);
    c.line(2, 3, 7, 8, emblem);
  } else if (style === "chevron") {
    c.line(2, 9, 7, 4, emblem);
    c.line(2, 8, 7, 3, emblem);
  } else c.ellipse(16, 14, 6, 6, emblem);
  c.mirrorLeftToRight();
  parts.push(style === "band" ? "stripe" : style);
  return [field, border];
}
