/**
 * Class 4, side-facing characters: a figure in profile, drawn facing right (half are mirrored to
 * face left). One eye near the front of the head and a nose that sticks out, hair or a hat at the
 * back, the arm in front of the torso, legs apart in a walking stride.
 */
import { SpriteCanvas } from "./canvas";
import type { Prng } from "./prng";
import type { SpritePart } from "./traits";
import { CLOTH, FANTASY_SKIN, GEM, HAIR, METAL, SKIN, WOOD, darken, pickColour } from "./palette";

type Role = "adventurer" | "knight" | "mage" | "villager" | "goblin" | "thief";

export const ROLE_WEIGHTS: Readonly<Record<Role, number>> = { adventurer: 3, knight: 2, mage: 2, villager: 2, goblin: 1, thief: 1 };

/** Draws one side-facing figure; every choice comes from `prng`. */
export function drawProfile(prng: Prng): SpriteCanvas {
  const c = new SpriteCanvas();
  const role = prng.weighted(ROLE_WEIGHTS);
  const skinColour = role === "goblin" ? pickColour(prng, FANTASY_SKIN) : pickColour(prng, SKIN, 6);
  const skin = c.region(skinColour);
  const ink = c.region(0x1c1418, "flat");
  const hair = c.region(pickColour(prng, HAIR));
  const clothColour = role === "knight" ? pickColour(prng, METAL, 6) : role === "thief" ? pickColour(prng, [0x404050, 0x38503a, 0x502828], 6) : pickColour(prng, CLOTH);
  const cloth = c.region(clothColour);
  const sleeve = c.region(darken(clothColour, 35));
  const pants = c.region(pickColour(prng, [...CLOTH, ...WOOD]));
  const boots = c.region(darken(pickColour(prng, WOOD), 40));
  const belt = c.region(pickColour(prng, WOOD, 6));

  const top = role === "mage" ? 3 : prng.range(1, 2);
  const chin = top + 6;
  const waist = Math.min(12, chin + 4);
  const back = prng.range(3, 4); // x of the back of the head
  const parts: SpritePart[] = [];
  // Back (a knight's cape, an adventurer's pack) first, then legs, torso, head, front arm.
  if (role === "knight" || (role === "adventurer" && prng.chance(1, 2))) {
    const pack = c.region(role === "knight" ? pickColour(prng, CLOTH) : pickColour(prng, WOOD, 6));
    c.rect(back, chin + 1, 2, role === "knight" ? 13 - chin : 4, pack);
    parts.push(role === "knight" ? "cape" : "backpack");
  }
  drawStride(c, prng, waist, pants, boots, role === "mage" ? cloth : -1);
  c.rect(back + 2, chin + 1, 5, waist - chin, cloth);
  c.rect(back + 2, waist, 5, 1, belt);
  // Head: skin from the back of the head to the face; hair over the top and the back half.
  c.rect(back + 1, top + 1, 7, chin - top, skin);
  c.set(back + 7, chin, 0);
  c.set(back + 8, top + 4, skin); // the nose
  c.rect(back + 6, top + 3, 1, 2, ink);
  c.set(back + 7, chin - 1, c.region(darken(skinColour, 80), "flat")); // the mouth
  if (role !== "knight" && role !== "thief") {
    const long = prng.range(4, 6);
    c.rect(back + 1, top, 7, 2, hair);
    c.rect(back, top + 1, 4, long, hair);
    c.set(back + 2, top + long, hair);
    c.set(back + 7, top + 2, hair);
    c.set(back + 3, top + 4, c.region(darken(skinColour, 40))); // the ear
  }
  const headgear = drawHeadgear(c, prng, role, top, chin, back, parts);
  if (role === "goblin") c.rect(back + 2, top + 2, 2, 1, c.region(skinColour));
  // The arm hangs in front of the torso, the hand at its end.
  const arm = back + 4;
  c.rect(arm, chin + 1, 2, waist - chin - 1, sleeve);
  if (role === "mage") {
    // Reaching forward to hold a staff in front of the face.
    c.rect(arm + 2, waist - 2, 2, 1, sleeve);
    c.set(arm + 4, waist - 2, skin);
    drawHeldItem(c, prng, role, arm + 5, waist - 2, parts);
  } else {
    c.rect(arm, waist - 1, 2, 1, skin);
    drawHeldItem(c, prng, role, arm + 2, waist - 1, parts);
  }
  const flipped = prng.chance(1, 2);
  if (flipped) c.flipHorizontal();
  // A thief's hood covers more of it than its dark clothes.
  const colourRegions = role === "thief" ? [headgear, cloth] : [cloth, pants];
  c.describe({ family: "character", kind: role, facing: "side", direction: flipped ? "left" : "right", colourRegions, parts });
  return c;
}

/** Legs in a walking stride (front foot forward, back foot behind), or a robe to the ground. */
function drawStride(c: SpriteCanvas, prng: Prng, waist: number, pants: number, boots: number, robe: number): void {
  const x = 6;
  if (robe >= 0) {
    for (let y = waist + 1; y <= 14; y++) c.rect(x - ((y - waist) >> 1), y, 5 + (y - waist), 1, robe);
    c.rect(x + 5, 14, 2, 1, boots);
    return;
  }
  const stride = prng.range(1, 2);
  c.rect(x, waist + 1, 5, 1, pants);
  c.line(x, waist + 2, x - stride, 13, pants);
  c.line(x + 1, waist + 2, x + 1 - stride, 13, pants);
  c.line(x + 3, waist + 2, x + 3 + stride, 13, pants);
  c.line(x + 4, waist + 2, x + 4 + stride, 13, pants);
  c.rect(x - stride - 1, 14, 3, 1, boots);
  c.rect(x + 3 + stride, 14, 3, 1, boots);
}

/** Helmet, wizard hat, hood or headband, seen from the side; what it drew is added to `parts`. Returns its region. */
function drawHeadgear(c: SpriteCanvas, prng: Prng, role: Role, top: number, chin: number, back: number, parts: SpritePart[]): number {
  const colour = role === "knight" ? pickColour(prng, METAL, 6) : pickColour(prng, CLOTH);
  const gear = c.region(colour);
  if (role === "knight") {
    c.rect(back, top, 8, 4, gear);
    c.rect(back, top + 4, 4, chin - top - 3, gear);
    c.set(back, top, 0);
    c.rect(back + 5, top + 3, 3, 1, c.region(0x181820, "flat"));
    parts.push("helmet");
    if (top >= 2 && prng.chance(1, 2)) {
      c.rect(back + 1, top - 1, 4, 1, c.region(pickColour(prng, CLOTH)));
      parts.push("plume");
    }
  } else if (role === "mage") {
    c.rect(back - 1, top + 1, 10, 1, gear);
    c.rect(back + 1, top - 1, 6, 2, gear);
    c.rect(back, top - 2, 4, 1, gear);
    c.set(back - 1, top - 2, gear);
    parts.push("wizard hat");
  } else if (role === "thief") {
    c.rect(back + 1, top, 7, 2, gear);
    c.rect(back, top + 1, 4, chin - top + 1, gear);
    c.set(back + 7, top + 2, gear);
    parts.push("hood");
  } else if (role === "adventurer" && prng.chance(1, 2)) {
    c.rect(back + 1, top + 1, 7, 1, gear);
    c.rect(back - 1, top + 2, 2, 1, gear);
    parts.push("headband");
  } else if (role === "villager" && prng.chance(1, 2)) {
    c.rect(back + 1, top, 7, 1, gear);
    c.rect(back + 5, top + 1, 5, 1, gear);
    parts.push("cap");
  }
  return gear;
}

/** A sword, staff, dagger, tool or nothing in the front hand at (x - 1, handRow); its name is added to `parts`. */
function drawHeldItem(c: SpriteCanvas, prng: Prng, role: Role, x: number, handRow: number, parts: SpritePart[]): void {
  if (role === "mage") {
    c.rect(x, 3, 1, 12, c.region(pickColour(prng, WOOD, 6)));
    c.rect(x - 1, 1, 3, 2, c.region(pickColour(prng, GEM, 8), "round"));
    parts.push("staff");
  } else if (role === "knight" || (role === "adventurer" && prng.chance(2, 3))) {
    // A blade pointing forward and up from the fist, a short guard across it.
    const blade = c.region(prng.pick([0xd8dce8, 0xc0c8d8]), "flat");
    const reach = Math.min(4, 13 - x);
    c.line(x + 1, handRow - 1, x + 1 + reach, handRow - 1 - reach, blade);
    c.line(x + 2, handRow - 1, x + 1 + reach, handRow - reach, c.region(0x8890a0, "flat"));
    c.line(x - 1 + 1, handRow - 2, x + 1, handRow, c.region(pickColour(prng, METAL, 6)));
    parts.push("sword");
  } else if (role === "thief" || role === "goblin") {
    c.line(x, handRow - 1, x + 2, handRow - 3, c.region(0xc8d0d8));
    parts.push("dagger");
  } else if (role === "villager" && prng.chance(1, 2)) {
    c.rect(x, handRow - 5, 1, 15 - handRow + 5, c.region(pickColour(prng, WOOD, 6)));
    parts.push("walking stick");
  }
}
