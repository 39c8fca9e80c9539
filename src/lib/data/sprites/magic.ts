/**
 * Class 3, spells & weapons, part 2: magic items and spells (staff, wand, potion, book, orb on a
 * stand, scroll, gem, fireball, lightning bolt, sparkle).
 */
import { SpriteCanvas } from "./canvas";
import type { Prng } from "./prng";
import type { SpritePart } from "./traits";
import { CLOTH, GEM, METAL, WOOD, darken, lighten, pickColour } from "./palette";

export type MagicKind = "staff" | "wand" | "potion" | "book" | "orb" | "scroll" | "gem" | "fireball" | "lightning" | "sparkle";

export const MAGIC_WEIGHTS: Readonly<Record<MagicKind, number>> = {
  staff: 3, wand: 2, potion: 5, book: 4, orb: 2, scroll: 3, gem: 2, fireball: 2, lightning: 1, sparkle: 1,
};

const LIQUID = [0xe02848, 0x3070e8, 0x38c050, 0xa040e0, 0xf0a020, 0x20c0d0, 0xf060b0];
const PAPER = [0xf0e0b8, 0xe8d8a8, 0xf4ead0];

/** Draws one magic item or spell of the given kind. */
export function drawMagic(prng: Prng, kind: MagicKind): SpriteCanvas {
  const c = new SpriteCanvas();
  const flat = (colour: number): number => c.region(colour, "flat");
  const gemColour = pickColour(prng, GEM, 8);
  let colourRegions: number[] = [];
  const parts: SpritePart[] = [];
  switch (kind) {
    case "staff":
    case "wand": {
      const wood = c.region(pickColour(prng, kind === "wand" ? [...WOOD, 0x303040, 0xf0f0f0] : WOOD, 6));
      const top = kind === "staff" ? 5 : 7;
      c.line(1, 14, 14 - top, top + 1, wood);
      c.line(2, 14, 14 - top, top + 2, c.region(darken(c.regions[wood].colour, 50), "flat"));
      const orb = c.region(gemColour, "round");
      colourRegions = [orb, wood];
      if (kind === "staff") {
        c.ellipse(23, 9, 7, 7, orb);
        const prong = c.region(pickColour(prng, METAL, 6));
        c.stamp(8, 1, ["p.....", "p.....", ".p....", "..p...", "...ppp"], { p: prong });
      } else {
        c.stamp(8, 1, ["..s..", ".sss.", "sssss", ".sss.", ".s.s."], { s: orb });
      }
      c.set(kind === "staff" ? 10 : 9, 3, flat(lighten(gemColour, 200)));
      if (prng.chance(1, 2)) {
        for (const [x, y] of [[14, 1], [14, 7], [6, 2]]) c.set(x, y, flat(lighten(gemColour, 140)));
        parts.push("sparkles");
      }
      break;
    }
    case "potion": {
      const glass = c.region(pickColour(prng, [0xd8eef8, 0xe8f0f0, 0xd0e8e0], 4), "round");
      const liquid = c.region(pickColour(prng, LIQUID, 8), "round");
      const cork = c.region(pickColour(prng, WOOD, 6));
      colourRegions = [liquid];
      const shape = prng.pick(["round", "round", "tall", "flask"]);
      if (shape === "round") {
        c.ellipse(16, 19, 13, 11, glass);
        c.ellipse(16, 21, 11, 7, liquid);
        c.rect(6, 3, 4, 4, glass);
      } else if (shape === "tall") {
        c.rect(3, 6, 10, 9, glass);
        c.rect(4, 9, 8, 5, liquid);
        c.rect(6, 3, 4, 3, glass);
      } else {
        for (let y = 6; y <= 14; y++) c.rect(7 - ((y - 4) >> 1) - 1, y, 2 + 2 * ((y - 4) >> 1), 1, glass);
        for (let y = 10; y <= 13; y++) c.rect(7 - ((y - 4) >> 1), y, 2 * ((y - 4) >> 1), 1, liquid);
        c.rect(6, 3, 4, 3, glass);
      }
      c.rect(6, 1, 4, 2, cork);
      c.rect(4, 8, 1, 2, flat(0xffffff));
      if (prng.chance(1, 2)) c.set(9, 11, flat(lighten(c.regions[liquid].colour, 150)));
      break;
    }
    case "book": {
      const cover = c.region(pickColour(prng, CLOTH, 8));
      const pages = c.region(pickColour(prng, PAPER, 4));
      colourRegions = [cover];
      c.rect(3, 1, 11, 14, cover);
      c.rect(12, 2, 2, 12, pages);
      c.rect(4, 14, 9, 1, pages);
      c.rect(2, 1, 2, 14, c.region(darken(c.regions[cover].colour, 50)));
      const trim = c.region(pickColour(prng, [0xe8c030, 0xd0d8e0], 6), "flat");
      const emblem = prng.pick(["gem", "star", "lines", "skull"] as const);
      if (emblem === "gem") c.rect(7, 6, 2, 2, flat(gemColour));
      if (emblem === "star") c.stamp(6, 5, [".t.", "ttt", ".t."], { t: trim });
      if (emblem === "lines") {
        c.rect(5, 4, 6, 1, trim);
        c.rect(5, 10, 6, 1, trim);
      }
      if (emblem === "skull") c.stamp(6, 5, ["ttt", "t.t", ".t."], { t: flat(0xf0f0e8) });
      if (emblem !== "lines") parts.push(emblem);
      c.rect(4, 2, 1, 12, trim);
      break;
    }
    case "orb": {
      const ball = c.region(pickColour(prng, [...GEM, 0xb0d8f8], 8), "round");
      colourRegions = [ball];
      c.ellipse(16, 14, 12, 12, ball);
      c.rect(5, 4, 2, 1, flat(0xffffff));
      c.set(4, 5, flat(0xffffff));
      c.set(9, 9, flat(lighten(c.regions[ball].colour, 120)));
      const stand = c.region(pickColour(prng, [...METAL, ...WOOD], 6));
      c.rect(4, 12, 8, 1, stand);
      c.rect(3, 13, 10, 2, stand);
      break;
    }
    case "scroll": {
      const paper = c.region(pickColour(prng, PAPER, 6));
      const roll = c.region(darken(c.regions[paper].colour, 30));
      colourRegions = [paper];
      c.rect(3, 3, 10, 10, paper);
      c.rect(2, 1, 12, 2, roll);
      c.rect(2, 13, 12, 2, roll);
      const ink = flat(0x504040);
      for (let y = 5; y <= 10; y += 2) c.rect(5, y, prng.range(4, 6), 1, ink);
      if (prng.chance(1, 2)) {
        c.rect(9, 11, 2, 2, flat(pickColour(prng, [0xc02020, 0x2040c0])));
        parts.push("seal");
      }
      break;
    }
    case "gem": {
      const g = c.region(gemColour);
      colourRegions = [g];
      const l = flat(lighten(gemColour, 110));
      const d = flat(darken(gemColour, 70));
      c.stamp(2, 2, ["...llllll", "..lgggggdd", ".lgggggdddd", "llllllldddd"], { l, g, d });
      c.stamp(2, 6, ["dggggggdddd", ".dgggggddd", "..dggggdd", "...dgggd", "....dgd", ".....d"], { g, d });
      c.set(5, 3, flat(0xffffff));
      break;
    }
    case "fireball": {
      const outer = c.region(pickColour(prng, [0xe83818, 0x4080f0, 0x9040e0], 6), "round");
      const inner = c.region(pickColour(prng, [0xf8a020, 0x90d0f8], 6), "round");
      colourRegions = [outer, inner];
      c.ellipse(13, 19, 11, 11, outer);
      c.stamp(8, 1, ["......o", "....oo.", "..ooo..", ".oooo.o", "ooooooo", "ooooo.."], { o: outer });
      c.ellipse(13, 19, 7, 7, inner);
      c.rect(5, 9, 2, 2, flat(0xfff0c0));
      break;
    }
    case "lightning": {
      const bolt = c.region(pickColour(prng, [0xf8e040, 0x80d8f8, 0xe0a0f8], 6));
      colourRegions = [bolt];
      c.stamp(3, 1, ["....bbbbb", "...bbbbb.", "..bbbb...", ".bbbbbbb.", "....bbbb.", "...bbbb..", "..bbb....", ".bbbbb...", "...bbb...", "..bb.....", ".bb......", "bb......."], { b: bolt });
      const core = flat(lighten(c.regions[bolt].colour, 200));
      c.line(9, 1, 6, 4, core);
      c.line(9, 5, 5, 9, core);
      break;
    }
    case "sparkle": {
      const star = c.region(pickColour(prng, [0xf8e040, 0x80d8f8, 0xf8a0d8], 6));
      colourRegions = [star];
      c.stamp(1, 1, ["......s", "......s", ".....sss", ".....sss", "...sssssss", "sssssssss", "...sssssss", ".....sss", ".....sss", "......s", "......s"], { s: star });
      c.rect(6, 5, 2, 2, flat(0xfffff0));
      c.mirrorLeftToRight();
      c.rect(1, 1, 3, 3, 0);
      c.stamp(1, 11, [".s.", "sss", ".s."], { s: c.region(c.regions[star].colour) });
      break;
    }
  }
  if (kind !== "sparkle" && prng.chance(1, 2)) c.flipHorizontal();
  c.describe({ family: "magic", kind, facing: null, colourRegions, parts });
  return c;
}
