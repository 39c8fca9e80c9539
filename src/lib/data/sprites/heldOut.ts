/**
 * Sprites of a kind the set never draws, made only on request: the examples textual inversion
 * (../../text/textualInversion.ts) learns a new word from, and the held-out references a measure
 * of it compares samples with.
 *
 * The kind is a robot: a front-facing metal figure (boxy head with an antenna, a visor, one eye or
 * two, a chest panel, arms and short legs), in one of seven body colours, sometimes with a shield
 * and glowing eyes, parts the captions already name. Nothing in the set looks like it (the golem,
 * the nearest, is a stone block without head, antenna or limbs), and "robot" is none of the
 * caption words (possibleCaptionWords), so a caption model has no word for it.
 *
 * It lives in its own file, on its own seed stream (deriveSeed(seed, HELD_OUT_STREAM, ...)): the
 * set's drawing functions, weights and seeds are untouched, so generateSpriteSet's bytes are too.
 * Each example is a distinct base (the set's validity rule, no two alike) rendered once with a
 * variant's jitter (a 1-px move, a palette shift, a background), as the set's sprites are.
 */
import { SpriteCanvas } from "./canvas";
import { spriteCaptions } from "./captions";
import { drawCreatureEye, faceInks } from "./features";
import { SPRITE_BYTES, isValidBase } from "./generate";
import { GEM, METAL, OUTLINE, darken, lighten, pickColour } from "./palette";
import { Prng, deriveSeed } from "./prng";
import { compileSprite, drawJitter, renderVariant } from "./render";
import { type SpriteAttributes, type SpritePart, spriteAttributes } from "./traits";

/** The kinds drawn only on request. */
export const HELD_OUT_KINDS = ["robot"] as const;
export type HeldOutKind = (typeof HELD_OUT_KINDS)[number];

/** The held-out sprites' stream tag (any constant the set's seeds never use as a path's first part: its classes are 0..4). */
const HELD_OUT_STREAM = 0x4e1d;

/** Most attempts per example before giving up (as drawBases'). */
const MAX_ATTEMPTS = 200;

/** Body colours: silver, grey, bronze, gold and three painted ones, so colour words still vary. */
const ROBOT_BODY = [METAL[0], METAL[4], METAL[3], METAL[2], 0x3c6cd0, 0xd03838, 0x38a048];

/** Draws one robot on the left half, mirrors it, then adds the shield (viewer's right) if any. */
export function drawRobot(prng: Prng): SpriteCanvas {
  const c = new SpriteCanvas();
  const f = faceInks(c, prng);
  const bodyColour = pickColour(prng, ROBOT_BODY, 8);
  const body = c.region(bodyColour);
  const joint = c.region(darken(bodyColour, 70));
  const panel = c.region(lighten(bodyColour, 120), "flat");
  const light = c.region(pickColour(prng, GEM, 8), "flat");
  const parts: SpritePart[] = [];
  c.set(7, 1, light); // antenna bulb and stalk (mirrored to two pixels wide)
  c.set(7, 2, joint);
  const headTop = 3;
  c.rect(4, headTop, 4, 5, body);
  if (prng.chance(1, 2)) c.set(3, headTop + 2, joint); // ear bolts
  const eyes = prng.pick(["visor", "pair", "one"] as const);
  if (eyes === "visor") c.rect(5, headTop + 2, 3, 1, f.glow);
  else if (eyes === "pair") drawCreatureEye(c, 5, headTop + 2, prng.pick(["big", "glow"] as const), f);
  else c.rect(6, headTop + 1, 2, 2, f.glow);
  const glowing = eyes === "visor" || eyes === "one" || c.get(4, headTop + 2) === f.glow;
  if (eyes === "one") parts.push("one eye");
  for (let x = 5; x <= 7; x += 2) c.set(x, headTop + 4, f.ink); // mouth grille
  c.rect(6, 8, 2, 1, joint); // neck
  c.rect(3, 9, 5, 4, body);
  c.rect(6, 10, 2, 2, panel);
  if (prng.chance(1, 2)) c.set(7, 10, light);
  c.rect(1, 9, 2, 3, joint); // arm and hand
  c.rect(1, 12, 2, 1, body);
  c.rect(4, 13, 2, 2, joint); // leg
  c.mirrorLeftToRight();
  if (prng.chance(1, 3)) {
    const shield = c.region(pickColour(prng, [METAL[1], 0xd03838, 0x3468d0], 8));
    c.rect(11, 8, 3, 5, shield);
    c.set(12, 13, shield);
    c.set(12, 9, c.region(pickColour(prng, GEM, 8), "flat"));
    parts.unshift("shield");
  }
  if (glowing && eyes !== "one") parts.push("glowing eyes");
  c.describe({ family: "monster", kind: "robot", facing: "front", colourRegions: [body], parts });
  return c;
}

/** The drawing of a held-out kind. */
function drawHeldOut(kind: HeldOutKind, prng: Prng): SpriteCanvas {
  switch (kind) {
    case "robot":
      return drawRobot(prng);
  }
}

export interface HeldOutSprites {
  kind: HeldOutKind;
  /** uint8 RGB, [count, 16, 16, 3] row-major (NHWC), 0..255: the sprite set's layout. */
  images: Uint8Array;
  /** Per example, what it shows (kind, colours, parts), as the set's captions file records a base. */
  attributes: SpriteAttributes[];
  count: number;
  seed: number;
}

/**
 * `count` distinct sprites of a held-out kind (default 5, the 3-5 examples textual inversion
 * takes, or more as references), the same bytes for the same seed on every machine. Throws for a
 * kind not in HELD_OUT_KINDS (listing them) or a bad count or seed.
 */
export function heldOutSprites(options: { kind?: string; count?: number; seed?: number } = {}): HeldOutSprites {
  const kind = (options.kind ?? "robot") as HeldOutKind;
  const count = options.count ?? 5;
  const seed = options.seed ?? 0;
  if (!HELD_OUT_KINDS.includes(kind)) throw new Error(`heldOutSprites: no held-out kind "${options.kind}"; the kinds the set never draws are ${HELD_OUT_KINDS.join(", ")}.`);
  if (!Number.isInteger(count) || count < 1 || count > 1000) throw new Error(`heldOutSprites: count must be a whole number in 1..1000, got ${count}.`);
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new Error(`heldOutSprites: seed must be an integer in 0..2^32-1, got ${seed}.`);
  const images = new Uint8Array(count * SPRITE_BYTES);
  const attributes: SpriteAttributes[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < count; i++) {
    for (let attempt = 0; ; attempt++) {
      if (attempt === MAX_ATTEMPTS) throw new Error(`heldOutSprites: no new valid ${kind} after ${MAX_ATTEMPTS} attempts (seed ${seed}, example ${i}); ask for fewer.`);
      const prng = new Prng(deriveSeed(seed, HELD_OUT_STREAM, i, attempt));
      const canvas = drawHeldOut(kind, prng);
      const base = compileSprite(canvas, prng.pick(OUTLINE));
      const key = Array.from(base.pixels, (index) => base.colours[index].toString(36)).join(",");
      if (!isValidBase(base) || seen.has(key)) continue;
      seen.add(key);
      renderVariant(base, drawJitter(base, prng, false), images, i * SPRITE_BYTES);
      attributes.push(spriteAttributes(1, canvas));
      break;
    }
  }
  return { kind, images, attributes, count, seed };
}

/** The tag of the JSON that `npm run held-out-sprites` writes beside its .npy. */
export const HELD_OUT_FORMAT = "held-out-sprites-1";

/** That JSON: the kind, the seed, and each sprite's attributes with its captions (the kind's own word in them). */
export interface HeldOutRecord {
  format: typeof HELD_OUT_FORMAT;
  kind: HeldOutKind;
  seed: number;
  count: number;
  sprites: Array<SpriteAttributes & { captions: string[] }>;
}

/** The record of some held-out sprites (see HeldOutRecord). */
export function heldOutRecord(sprites: HeldOutSprites): HeldOutRecord {
  const { kind, seed, count } = sprites;
  return { format: HELD_OUT_FORMAT, kind, seed, count, sprites: sprites.attributes.map((attributes) => ({ ...attributes, captions: spriteCaptions(attributes) })) };
}
