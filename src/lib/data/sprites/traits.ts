/**
 * What a base sprite shows, in the words a person would use: recorded by the drawing functions
 * beside the choices they make (never drawing anything, never drawing a random number), and
 * turned into a base's attributes here: its family and kind, main colours by name, facing, and
 * the notable parts the generator chose. Captions (captions.ts) are made from these attributes.
 */
import type { SpriteCanvas } from "./canvas";
import { colourName } from "./colourNames";

/** The drawing families, as a caption names them. */
export type SpriteFamily = "hero" | "monster" | "animal" | "humanoid" | "fruit" | "food" | "weapon" | "magic" | "character";

/** Every part a drawing may record, as a caption names it. */
export const SPRITE_PARTS = [
  "helmet", "horned helmet", "wizard hat", "crown", "hood", "cap", "headband", "straw hat", "plume",
  "cape", "backpack", "apron", "dress", "beard",
  "sword", "axe", "bow", "staff", "dagger", "shield", "walking stick", "pitchfork", "lantern",
  "one eye", "big eyes", "glowing eyes", "fangs", "wings", "gem",
  "cheese", "broad blade", "double head", "pennant", "arrow", "cross", "stripe", "chevron", "disc",
  "sparkles", "star", "skull", "seal",
] as const;
export type SpritePart = (typeof SPRITE_PARTS)[number];

/** Characters face the viewer ("front") or are drawn in profile ("side"); items have no facing. */
export type Facing = "front" | "side";

/** Which way a profile looks, as the viewer sees it. */
export type Direction = "left" | "right";

/** What a drawing function records on its canvas (`SpriteCanvas.describe`). */
export interface DrawnTraits {
  family: SpriteFamily;
  kind: string;
  facing: Facing | null;
  /** The regions whose colours name the sprite, most telling first (a slime's body, a potion's liquid). */
  colourRegions: number[];
  /** Notable parts the generator chose (mostly optional ones: "shield", "crown", "one eye", ...). */
  parts: SpritePart[];
  /** Side-facing sprites only. */
  direction?: Direction;
}

/** A base sprite's attributes: what its captions say. Every variant of the base shares them. */
export interface SpriteAttributes {
  /** The course's class index, 0..4. */
  classIndex: number;
  family: SpriteFamily;
  kind: string;
  /** One or two colour names (colourNames.ts), the most telling first. */
  colours: string[];
  facing: Facing | null;
  direction: Direction | null;
  parts: string[];
}

/** Most colours named per sprite. */
const MAX_COLOURS = 2;

/**
 * The attributes of a finished drawing: its recorded traits, with each colour region named by
 * its base colour (the mid tone; light and dark shading tones are the same region). A region
 * the drawing later covered entirely is skipped; equal names are kept once.
 */
export function spriteAttributes(classIndex: number, canvas: SpriteCanvas): SpriteAttributes {
  const traits = canvas.traits;
  if (traits === null) throw new Error(`spriteAttributes: the class ${classIndex} drawing recorded no traits (its draw function must call canvas.describe).`);
  const visible = new Set(canvas.cells);
  const colours: string[] = [];
  for (const id of traits.colourRegions) {
    if (!visible.has(id)) continue;
    const name = colourName(canvas.regions[id].colour);
    if (!colours.includes(name) && colours.length < MAX_COLOURS) colours.push(name);
  }
  return {
    classIndex,
    family: traits.family,
    kind: traits.kind,
    colours,
    facing: traits.facing,
    direction: traits.direction ?? null,
    parts: [...traits.parts],
  };
}
