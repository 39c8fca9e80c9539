/**
 * Captions of a base sprite from its attributes (traits.ts), by fixed templates, and the words
 * they can use. No randomness: every applicable template is used, in a fixed order, so the
 * captions are as deterministic as the attributes.
 *
 *   1. "a green slime"                             article, main colour, kind
 *   2. "green slime monster, front"                 main colour, kind, family, facing (characters)
 *   3. "a green slime with a crown and fangs"       when the sprite has notable parts (at most 4)
 *   4. "a knight in red and silver"                 when it has a second colour
 *   5. "a blue thief facing left"                   side-facing sprites: which way they look
 */
import { ANIMAL_WEIGHTS } from "./animals";
import { COLOUR_NAMES } from "./colourNames";
import { FRUIT_KINDS } from "./fruit";
import { ARCHETYPE_WEIGHTS } from "./hero";
import { MAGIC_WEIGHTS } from "./magic";
import { MEAL_KINDS } from "./meals";
import { MONSTER_WEIGHTS } from "./monsters";
import { ROLE_WEIGHTS } from "./profile";
import { SPRITE_PARTS, type SpriteAttributes, type SpriteFamily } from "./traits";
import { VILLAGER_WEIGHTS } from "./villagers";
import { WEAPON_WEIGHTS } from "./weapons";

/** Every kind the generator draws, by family (its identifiers; KIND_WORDS says how captions write them). */
export const SPRITE_KINDS: Readonly<Record<SpriteFamily, readonly string[]>> = {
  hero: Object.keys(ARCHETYPE_WEIGHTS),
  monster: Object.keys(MONSTER_WEIGHTS),
  animal: Object.keys(ANIMAL_WEIGHTS),
  humanoid: Object.keys(VILLAGER_WEIGHTS),
  fruit: FRUIT_KINDS,
  food: MEAL_KINDS,
  weapon: Object.keys(WEAPON_WEIGHTS),
  magic: Object.keys(MAGIC_WEIGHTS),
  character: Object.keys(ROLE_WEIGHTS),
};

/** Kinds whose caption words differ from their identifier. */
const KIND_WORDS: Readonly<Record<string, string>> = { icecream: "ice cream", egg: "fried egg", lightning: "lightning bolt" };

/** The family as template 2 names it. */
const FAMILY_WORDS: Readonly<Record<SpriteFamily, string>> = {
  hero: "hero", monster: "monster", animal: "animal", humanoid: "humanoid", fruit: "fruit", food: "food",
  weapon: "weapon", magic: "magic item", character: "character",
};

/** Kinds and parts named without an article ("red cherries", "with glowing eyes"). */
const PLURAL = new Set(["cherries", "grapes", "big eyes", "glowing eyes", "fangs", "wings", "sparkles", "one eye"]);

/** The words the templates themselves add. */
const TEMPLATE_WORDS = ["a", "an", "with", "and", "in", "front", "side", "facing", "left", "right"];

/** Most parts one caption lists. */
const MAX_PARTS = 4;

export const kindWords = (kind: string): string => KIND_WORDS[kind] ?? kind;

/** "a ...", "an ..." or nothing for plurals, by the phrase's first letter. */
function withArticle(phrase: string, noun: string): string {
  if (PLURAL.has(noun)) return phrase;
  return `${/^[aeiou]/.test(phrase) ? "an" : "a"} ${phrase}`;
}

/** "a", "a and b", "a, b and c". */
function listed(items: string[]): string {
  return items.length <= 1 ? items.join("") : `${items.slice(0, -1).join(", ")} and ${items[items.length - 1]}`;
}

/** The captions of one base sprite, templates 1-5 in order (those that apply). */
export function spriteCaptions(a: SpriteAttributes): string[] {
  const kind = kindWords(a.kind);
  const named = [...a.colours.slice(0, 1), kind].join(" ");
  const captions = [withArticle(named, kind)];
  captions.push(`${named} ${FAMILY_WORDS[a.family]}${a.facing === null ? "" : `, ${a.facing}`}`);
  if (a.parts.length > 0) {
    const parts = a.parts.slice(0, MAX_PARTS).map((part) => withArticle(part, part));
    captions.push(`${withArticle(named, kind)} with ${listed(parts)}`);
  }
  if (a.colours.length > 1) captions.push(`${withArticle(kind, kind)} in ${listed(a.colours)}`);
  if (a.direction !== null) captions.push(`${withArticle(named, kind)} facing ${a.direction}`);
  return captions;
}

/** The words of a text: lower case, split on anything not a letter. */
export function captionWords(text: string): string[] {
  return text.toLowerCase().split(/[^a-z]+/).filter((word) => word.length > 0);
}

/** The sorted, distinct words of some captions. */
export function captionVocabulary(captions: Iterable<string>): string[] {
  const words = new Set<string>();
  for (const caption of captions) for (const word of captionWords(caption)) words.add(word);
  return [...words].sort();
}

/**
 * Every word a caption can use, sorted: the colour names, the kinds, the families, the parts and
 * the templates' own words. A set's captions use a subset of these.
 */
export function possibleCaptionWords(): string[] {
  const kinds = Object.values(SPRITE_KINDS).flatMap((kinds) => kinds.map(kindWords));
  return captionVocabulary([...COLOUR_NAMES, ...kinds, ...Object.values(FAMILY_WORDS), ...SPRITE_PARTS, ...TEMPLATE_WORDS]);
}
