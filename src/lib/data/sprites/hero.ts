/**
 * Class 0, hero: a front-facing adventurer (knight, warrior, mage, ranger, royal) with armour or
 * robes, headgear or hair, and usually a weapon or shield in hand.
 */
import { SpriteCanvas } from "./canvas";
import type { Prng } from "./prng";
import type { SpritePart } from "./traits";
import { CLOTH, GEM, HAIR, METAL, SKIN, WOOD, darken, pickColour } from "./palette";
import {
  HAT_WORDS,
  drawEyes,
  drawHair,
  drawHat,
  drawHead,
  drawLegs,
  drawSkirt,
  drawTorso,
  hatRows,
  randomLayout,
  type EyeStyle,
  type HairStyle,
  type HatStyle,
} from "./humanoid";

type Archetype = "knight" | "warrior" | "mage" | "ranger" | "royal";

export const ARCHETYPE_WEIGHTS: Readonly<Record<Archetype, number>> = { knight: 3, warrior: 2, mage: 2, ranger: 2, royal: 1 };

const HATS: Record<Archetype, readonly HatStyle[]> = {
  knight: ["helmet", "helmet", "none", "band"],
  warrior: ["horned", "band", "none"],
  mage: ["wizard", "wizard", "hood"],
  ranger: ["hood", "cap", "band", "none"],
  royal: ["crown"],
};

/** Draws one hero; every choice comes from `prng`. */
export function drawHero(prng: Prng): SpriteCanvas {
  const c = new SpriteCanvas();
  const archetype = prng.weighted(ARCHETYPE_WEIGHTS);
  const hat = prng.pick(HATS[archetype]);
  const l = randomLayout(prng, hatRows(hat));
  const metal = pickColour(prng, METAL, 6);
  const cloth = pickColour(prng, CLOTH);
  const skin = c.region(pickColour(prng, SKIN, 6));
  const ink = c.region(0x201820, "flat");
  const white = c.region(0xf8f8f8, "flat");
  const gem = c.region(pickColour(prng, GEM, 8), "flat");
  const hair = c.region(pickColour(prng, HAIR));
  const hatRegion = c.region(archetype === "knight" || archetype === "warrior" ? metal : pickColour(prng, CLOTH));
  const trim = c.region(archetype === "royal" ? 0xe8b830 : pickColour(prng, [...METAL, ...CLOTH], 6));
  const horn = c.region(0xeee4c8);
  const armour = archetype === "knight" || archetype === "warrior";
  const shirt = c.region(armour ? metal : cloth);
  const sleeve = c.region(armour && prng.chance(1, 2) ? metal : darken(cloth, 30));
  const chest = c.region(cloth);
  const belt = c.region(pickColour(prng, WOOD, 6));
  const buckle = c.region(0xe8c040, "flat");
  const pants = c.region(pickColour(prng, [...CLOTH, ...WOOD]));
  const boots = c.region(darken(pickColour(prng, WOOD), 40));
  const cape = c.region(pickColour(prng, CLOTH));

  const hasCape = archetype !== "ranger" && prng.chance(1, 2);
  const parts = [HAT_WORDS[hat], hasCape ? "cape" : null].filter((part): part is SpritePart => part !== null);
  if (hasCape) c.rect(8 - l.torsoHalf - 2, l.chin + 1, l.torsoHalf + 2, 14 - l.chin - 1, cape);

  drawHead(c, l, skin);
  const eyes = prng.pick<EyeStyle>(["dot", "tall", "white", "white"]);
  drawEyes(c, l, eyes, ink, white, gem);
  const hairStyle = prng.pick<HairStyle>(["short", "spiky", "long", "bangs", "bob"]);
  if (hat !== "helmet" && hat !== "hood") drawHair(c, l, hairStyle, hair);
  drawHat(c, l, hat, hatRegion, trim, horn);

  const armX = drawTorso(c, l, { shirt, sleeve, hand: skin, belt, buckle }, l.torsoHalf === 3 || prng.chance(1, 2));
  if (armour) {
    // A tabard or chest emblem over the armour, and pauldrons on the shoulders.
    c.rect(8 - l.torsoHalf + 1, l.chin + 1, l.torsoHalf - 1, l.waist - l.chin - 1, chest);
    if (prng.chance(1, 2)) c.rect(armX - 1, l.chin + 1, 8 - l.torsoHalf - armX + 2, 2, hatRegion);
  } else if (archetype === "mage") {
    c.rect(7, l.chin + 1, 1, l.waist - l.chin, trim);
  } else {
    c.line(8 - l.torsoHalf, l.chin + 1, 7, l.waist - 1, belt);
  }
  if (archetype === "mage" || (archetype === "royal" && prng.chance(1, 2))) drawSkirt(c, l, shirt, boots);
  else drawLegs(c, l, pants, boots);
  c.mirrorLeftToRight();
  drawProps(c, prng, archetype, armX, l.waist, c.region(metal), gem, parts);
  if (prng.chance(1, 2)) c.flipHorizontal();
  // A knight's or warrior's tabard names it before its armour; the others' clothes are the shirt.
  c.describe({ family: "hero", kind: archetype, facing: "front", colourRegions: [chest, shirt], parts });
  return c;
}

/**
 * A weapon in the figure's right hand (viewer's left) and, for fighters, a shield on the other
 * arm; what it drew is added to `parts`.
 */
function drawProps(c: SpriteCanvas, prng: Prng, archetype: Archetype, armX: number, handRow: number, metal: number, gem: number, parts: SpritePart[]): void {
  const x = Math.max(2, armX - 1);
  const blade = c.region(prng.pick([0xd8dce8, 0xc0c8d8, 0xe8d070]));
  const grip = c.region(pickColour(prng, WOOD, 6));
  if (archetype === "mage" || (archetype === "royal" && prng.chance(1, 2))) {
    c.rect(x, 3, 1, 12, grip);
    c.rect(x - 1, 1, 3, 3, c.region(pickColour(prng, GEM, 8), "round"));
    c.set(x - 1, 1, 0);
    c.set(x + 1, 1, 0);
    parts.push("staff");
    return;
  }
  if (archetype === "ranger") {
    // A bow held upright: an arc of wood with a string.
    for (let y = handRow - 6; y <= handRow + 2; y++) c.set(x - (Math.abs(y - handRow + 2) < 3 ? 1 : 0), y, grip);
    c.rect(x + 1, handRow - 6, 1, 9, c.region(0xf0f0e0, "flat"));
    parts.push("bow");
    return;
  }
  // Sword or axe upright in the hand, guard just above the fist.
  const top = Math.max(1, handRow - 8);
  c.rect(x, top, 1, handRow - top, blade);
  c.rect(x - 1, handRow - 1, 3, 1, metal);
  c.set(x, handRow, grip);
  c.set(x, handRow + 1, grip);
  const axe = x >= 3 && prng.chance(1, 3);
  if (axe) c.rect(x - 2, top, 2, 3, blade); // an axe head
  parts.push(axe ? "axe" : "sword");
  if (archetype === "knight" || prng.chance(1, 2)) {
    const shieldX = 15 - armX - 1;
    const shield = c.region(prng.chance(1, 2) ? metal : pickColour(prng, CLOTH));
    c.rect(shieldX, handRow - 4, 3, 5, shield);
    c.set(shieldX + 1, handRow + 1, shield);
    c.set(shieldX + 1, handRow - 3, gem);
    parts.push("shield");
  }
}
