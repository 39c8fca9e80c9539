/**
 * Class 1, non-hero, part 3: front-facing humanoids that are not heroes: villagers (farmers,
 * merchants, elders, maids) in plain clothes, and humanoid monsters (goblins, skeletons, zombies,
 * imps). No armour and no hero weapons; villagers carry tools or nothing.
 */
import { SpriteCanvas } from "./canvas";
import type { Prng } from "./prng";
import type { SpritePart } from "./traits";
import { CLOTH, FANTASY_SKIN, HAIR, SKIN, WOOD, darken, lighten, pickColour, type Rgb } from "./palette";
import { HAT_WORDS, drawEyes, drawHair, drawHat, drawHead, drawLegs, drawSkirt, drawTorso, randomLayout, type EyeStyle, type HairStyle, type HatStyle } from "./humanoid";

export type VillagerKind = "villager" | "elder" | "goblin" | "skeleton" | "zombie" | "imp";

export const VILLAGER_WEIGHTS: Readonly<Record<VillagerKind, number>> = {
  villager: 5, elder: 2, goblin: 2, skeleton: 2, zombie: 1, imp: 1,
};

const BONE = 0xeae6d8;
const FIXED_EYES: Partial<Record<VillagerKind, EyeStyle>> = { skeleton: "socket", goblin: "glow", imp: "glow", zombie: "white" };

/** Skin: bone for skeletons, grey-green for zombies, fantasy colours for goblins and imps. */
function skinFor(prng: Prng, kind: VillagerKind): Rgb {
  switch (kind) {
    case "skeleton":
      return BONE;
    case "zombie":
      return pickColour(prng, [0x98b088, 0x88a0a0]);
    case "goblin":
      return pickColour(prng, FANTASY_SKIN);
    case "imp":
      return pickColour(prng, [0xd04838, 0x9040a0]);
    default:
      return pickColour(prng, SKIN, 6);
  }
}

/** Draws one humanoid non-hero of the given kind. */
export function drawVillager(prng: Prng, kind: VillagerKind): SpriteCanvas {
  const c = new SpriteCanvas();
  const l = randomLayout(prng);
  const skinColour = skinFor(prng, kind);
  const skin = c.region(skinColour);
  const ink = c.region(0x1c1418, "flat");
  const white = c.region(0xf8f8f0, "flat");
  const glow = c.region(prng.pick([0xf03030, 0xf0d020, 0x40e0f0]), "flat");
  const hair = c.region(kind === "elder" ? pickColour(prng, [0xe8e8f0, 0xc8c8d0], 4) : pickColour(prng, HAIR));
  const shirtColour = kind === "zombie" ? pickColour(prng, [0x6a7a90, 0x7a6a58]) : pickColour(prng, [...CLOTH, ...WOOD]);
  const shirt = c.region(shirtColour);
  const sleeve = c.region(kind === "skeleton" ? BONE : darken(shirtColour, 30));
  const belt = c.region(pickColour(prng, WOOD, 6));
  const pants = c.region(pickColour(prng, [...CLOTH, ...WOOD]));
  const boots = c.region(darken(pickColour(prng, WOOD), 40));
  const hatRegion = c.region(pickColour(prng, [0xe8c870, ...CLOTH, ...WOOD]));
  const trim = c.region(pickColour(prng, CLOTH));

  drawHead(c, l, skin);
  const eyes = FIXED_EYES[kind] ?? prng.pick<EyeStyle>(["dot", "tall", "white"]);
  drawEyes(c, l, eyes, ink, white, glow);
  const parts: SpritePart[] = [];
  if (kind === "villager" || kind === "elder") {
    drawHair(c, l, prng.pick<HairStyle>(["short", "long", "bangs", "bald", "bob"]), hair);
    const hat = prng.pick<HatStyle>(["none", "none", "straw", "cap", "band"]);
    drawHat(c, l, hat, hatRegion, trim, hatRegion);
    const hatWord = HAT_WORDS[hat];
    if (hatWord !== null) parts.push(hatWord);
    if (kind === "elder" || prng.chance(1, 5)) {
      c.rect(8 - l.headHalf + 1, l.chin - 1, l.headHalf - 1, 3, hair);
      parts.push("beard");
    }
  }
  if (kind === "goblin" || kind === "imp") {
    c.set(8 - l.headHalf - 1, l.eyeRow - 1, skin);
    c.set(8 - l.headHalf - 2, l.eyeRow - 2, skin);
    c.set(7, l.chin - 1, ink);
    c.set(6, l.chin - 1, white);
  }
  if (kind === "imp") {
    const horn = c.region(0xe8e0c8);
    c.set(8 - l.headHalf + 1, l.skullTop, horn);
    c.set(8 - l.headHalf + 1, l.skullTop - 1 < 1 ? 1 : l.skullTop - 1, horn);
  }
  if (kind === "skeleton") c.rect(6, l.chin - 1, 2, 1, ink);
  if (kind === "zombie") {
    drawHair(c, l, "short", hair);
    c.rect(6, l.chin - 1, 2, 1, c.region(0x804040, "flat"));
  }

  const armX = drawTorso(c, l, { shirt, sleeve, hand: skin, belt, buckle: belt }, prng.chance(1, 2));
  if (kind === "skeleton") {
    for (let y = l.chin + 2; y < l.waist; y += 2) c.rect(8 - l.torsoHalf + 1, y, l.torsoHalf - 1, 1, c.region(BONE));
  } else if (kind === "villager" && prng.chance(1, 2)) {
    c.rect(8 - l.torsoHalf + 1, l.chin + 3, l.torsoHalf - 1, l.waist - l.chin - 2, c.region(lighten(shirtColour, 190)));
    parts.push("apron");
  } else if (kind === "zombie") {
    c.set(8 - l.torsoHalf + 1, l.waist - 1, skin);
  }
  if (kind === "villager" && prng.chance(1, 3)) {
    drawSkirt(c, l, shirt, boots);
    parts.push("dress");
  } else if (kind === "skeleton") {
    c.rect(8 - l.torsoHalf + 1, l.waist + 1, 1, 14 - l.waist, skin);
    c.rect(8 - l.torsoHalf, 14, 2, 1, skin);
  } else drawLegs(c, l, pants, boots);
  c.mirrorLeftToRight();
  if (kind === "villager" || kind === "elder") {
    const tool = drawTool(c, prng, Math.max(2, armX - 1), l.waist);
    if (tool !== null) parts.push(tool);
  }
  if (kind === "imp") c.line(12, l.waist + 1, 14, l.waist - 2, skin);
  c.describe({ family: "humanoid", kind, facing: "front", colourRegions: [shirt, pants], parts });
  return c;
}

/** A villager's walking stick, pitchfork, lantern or nothing, held in the viewer's left hand; returns its name. */
function drawTool(c: SpriteCanvas, prng: Prng, x: number, handRow: number): SpritePart | null {
  const tool = prng.pick(["none", "none", "stick", "fork", "lantern"]);
  const wood = c.region(pickColour(prng, WOOD, 6));
  if (tool === "stick") c.rect(x, handRow - 5, 1, 15 - handRow + 5, wood);
  if (tool === "fork") {
    c.rect(x, handRow - 5, 1, 15 - handRow + 5, wood);
    const tine = c.region(0xa8b0c0);
    c.rect(x - 1, handRow - 6, 3, 1, tine);
    c.set(x - 1, handRow - 7, tine);
    c.set(x + 1, handRow - 7, tine);
  }
  if (tool === "lantern") {
    c.rect(x - 1, handRow + 1, 2, 2, c.region(0xf8d040, "flat"));
    c.rect(x - 1, handRow, 2, 1, wood);
  }
  return tool === "stick" ? "walking stick" : tool === "fork" ? "pitchfork" : tool === "lantern" ? "lantern" : null;
}
