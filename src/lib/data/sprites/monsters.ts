/**
 * Class 1, non-hero, part 1: front-facing fantasy monsters (slime, ghost, bat, eyeball, octopus,
 * mushroom creature, golem). Symmetric bodies are drawn on the left half and mirrored.
 */
import { SpriteCanvas } from "./canvas";
import type { Prng } from "./prng";
import type { SpritePart } from "./traits";
import { CREATURE, GEM, darken, lighten, pickColour } from "./palette";
import { drawCreatureEye, drawMouth, faceInks, randomFace, type CreatureEye } from "./features";

export type MonsterKind = "slime" | "ghost" | "bat" | "eyeball" | "octopus" | "mushroom" | "golem";

export const MONSTER_WEIGHTS: Readonly<Record<MonsterKind, number>> = {
  slime: 3, ghost: 2, bat: 2, eyeball: 1, octopus: 2, mushroom: 2, golem: 2,
};

/** Draws one monster of the given kind. */
export function drawMonster(prng: Prng, kind: MonsterKind): SpriteCanvas {
  const c = new SpriteCanvas();
  const f = faceInks(c, prng);
  const { eye, mouth } = randomFace(prng);
  const body = c.region(pickColour(prng, CREATURE), "round");
  const parts: SpritePart[] = [];
  // The face as drawn: kinds that override the random eye or mouth say so below.
  let glowingEyes = eye === "glow";
  let fangs = mouth === "fangs";
  let colourRegion = body;
  switch (kind) {
    case "slime": {
      const top = prng.range(3, 5);
      const half = prng.range(6, 7);
      // A dome: the upper half of an ellipse whose centre sits on the base row 14.
      c.ellipse(16, 29, 2 * half, 2 * (15 - top), body);
      c.rect(0, 15, 16, 1, 0);
      if (prng.chance(1, 3)) {
        const crown = c.region(0xf0c030);
        c.rect(5, top - 1, 3, 1, crown);
        c.set(5, top - 2, crown);
        c.set(7, top - 2, crown);
        parts.push("crown");
      }
      c.rect(8 - half + 2, top + 3, 1, 2, c.region(lighten(c.regions[body].colour, 170), "flat"));
      const eyeRow = Math.min(10, top + 5);
      drawCreatureEye(c, 5, eyeRow, eye === "angry" ? "tall" : eye, f);
      drawMouth(c, eyeRow + 2, mouth, f);
      break;
    }
    case "ghost": {
      c.ellipse(16, 14, 12, 12, body);
      c.rect(2, 7, 6, 7, body);
      for (let x = 2; x <= 7; x += 2) c.set(x, 14, body);
      c.rect(1, 8, 1, 2, body);
      drawCreatureEye(c, 5, 6, eye === "big" ? "big" : "tall", f);
      glowingEyes = false;
      drawMouth(c, 10, mouth === "none" ? "open" : mouth, f);
      if (prng.chance(1, 2)) c.set(4, 8, f.blush);
      break;
    }
    case "bat": {
      c.ellipse(16, 17, 9, 11, body);
      c.rect(5, 2, 1, 3, body);
      c.set(6, 3, body);
      // Wings: a fan from the body's side to the frame edge, scalloped along the bottom.
      const wing = c.region(darken(c.regions[body].colour, 40));
      for (let x = 2; x <= 4; x++) c.rect(x, 4 + ((4 - x) >> 1), 1, 6 - ((4 - x) >> 1) - (x % 2), wing);
      c.rect(1, 3, 1, 4, wing);
      c.set(4, 10, wing);
      const batEye = prng.pick<CreatureEye>(["glow", "big", "dot"]);
      drawCreatureEye(c, 6, 8, batEye, f);
      c.set(7, 11, f.white);
      glowingEyes = batEye === "glow";
      fangs = false;
      break;
    }
    case "eyeball": {
      c.ellipse(16, 16, 13, 12, body);
      const iris = c.region(pickColour(prng, GEM), "round");
      c.ellipse(16, 16, 8, 8, f.white);
      c.ellipse(16, 16, 6, 6, iris);
      c.rect(7, 7, 1, 2, f.ink);
      parts.push("one eye");
      glowingEyes = false;
      fangs = false;
      if (prng.chance(1, 2)) for (let x = 2; x <= 6; x += 2) c.rect(x, 13, 1, 2, body);
      else {
        const wing = c.region(darken(c.regions[body].colour, 50));
        c.rect(1, 2, 2, 4, wing);
        parts.push("wings");
      }
      break;
    }
    case "octopus": {
      c.ellipse(16, 13, 12, 11, body);
      c.rect(3, 10, 5, 2, body);
      const legs = prng.range(0, 1);
      c.rect(2, 12, 2, 2, body);
      c.set(1, 14, body);
      c.rect(5 + legs, 12, 2 - legs, 3, body);
      drawCreatureEye(c, 6, 8, eye, f);
      drawMouth(c, 11, mouth === "fangs" ? "open" : mouth, f);
      fangs = false;
      if (prng.chance(1, 2)) c.set(5, 4, c.region(lighten(c.regions[body].colour, 150), "flat"));
      break;
    }
    case "mushroom": {
      const cap = c.region(pickColour(prng, [0xd83030, 0xe06820, 0x8850c0, 0x3878d0, 0xb07040]), "round");
      const stem = c.region(pickColour(prng, [0xf4e8d0, 0xe8d8b8], 6), "round");
      colourRegion = cap;
      c.ellipse(16, 12, 14, 11, cap);
      c.rect(0, 7, 8, 2, 0);
      c.rect(1, 6, 7, 1, cap);
      c.rect(4, 7, 4, 6, stem);
      c.rect(3, 13, 3, 2, stem);
      const spot = c.region(0xfaf6f0, "flat");
      c.set(3, 5, spot);
      c.rect(5, 2, 2, 1, spot);
      if (prng.chance(1, 2)) c.set(1, 6, spot);
      drawCreatureEye(c, 6, 9, eye, f);
      drawMouth(c, 11, mouth, f);
      break;
    }
    case "golem": {
      const stone = c.region(pickColour(prng, [0x909aa8, 0x8a7a68, 0x6a8a70, 0xb0a890, 0x7888b0]));
      colourRegion = stone;
      fangs = false;
      c.rect(4, 2, 4, 5, stone);
      c.set(4, 2, 0);
      c.rect(3, 7, 5, 5, stone);
      c.rect(1, 8, 2, 5, c.region(darken(c.regions[stone].colour, 25)));
      c.rect(3, 12, 3, 3, stone);
      const crack = c.region(darken(c.regions[stone].colour, 90), "flat");
      c.set(4, 9, crack);
      c.set(5, 10, crack);
      glowingEyes = prng.chance(1, 2);
      c.rect(5, 4, 2, 1, glowingEyes ? f.glow : f.ink);
      if (prng.chance(1, 2)) {
        c.rect(6, 1, 1, 1, c.region(pickColour(prng, GEM), "flat"));
        parts.push("gem");
      }
      break;
    }
  }
  c.mirrorLeftToRight();
  if (glowingEyes) parts.push("glowing eyes");
  if (fangs) parts.push("fangs");
  c.describe({ family: "monster", kind, facing: "front", colourRegions: [colourRegion], parts });
  return c;
}
