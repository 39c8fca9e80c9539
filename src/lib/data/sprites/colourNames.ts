/**
 * Colour names for captions: a small fixed table of reference colours, and the name of any RGB
 * colour as its nearest reference. The distance is the "redmean" weighted RGB distance (a cheap
 * perceptual correction: green counts most, red and blue by how red the pair is), in integers so
 * every machine names a colour alike. A rendered pixel is named by the nearest reference or
 * shading tone of one (`pixelColourName`), since render.ts shades a region lighter or darker.
 *
 * | name   | reference | what the generator's palettes send there                      |
 * |--------|-----------|---------------------------------------------------------------|
 * | black  | #282430   | spiders, dark hair, thieves' cloth, dark wood                  |
 * | grey   | #808088   | slate cloth, stone golems, mice, zombies' rags, dark metal     |
 * | silver | #c0c4cc   | steel blades and armour, white hair                            |
 * | white  | #f6f4ee   | eggs, bone, snowy fur, glass, milk                             |
 * | red    | #d03030   | red and crimson cloth, apples, cherries, rubies, crabs         |
 * | orange | #f08028   | oranges, carrots, foxes, orange cloth, bronze, bread crust     |
 * | yellow | #f0d038   | lemons, bananas, cheese, gold, chicks, bees                    |
 * | green  | #48a840   | green cloth, slimes, frogs, leaves, goblin skin, emeralds      |
 * | teal   | #28a8a8   | teal cloth, cyan gems, sky-blue and sea-green creatures        |
 * | blue   | #3c6cd0   | blue and navy cloth, sapphires, blue mushrooms                 |
 * | cyan   | #88d0f0   | light-blue icing, ice blades, light-blue spells and drinks     |
 * | purple | #8c48c0   | violet cloth, grapes, amethysts, spiders                       |
 * | lilac  | #c8a0e8   | lilac icing and spells, pale violet goblins                    |
 * | pink   | #f098b8   | pink cloth, pigs, pink icing and gems                          |
 * | brown  | #8a5a30   | wood, leather, bread, bears, dogs, chocolate                   |
 * | beige  | #dcc098   | light skin, parchment, sponge cake, pale fur, sandstone        |
 */
import { blue, darken, green, lighten, red, type Rgb } from "./palette";
import { DARK_AMOUNT, LIGHT_AMOUNT } from "./render";

/** The reference colours in table order. */
export const COLOUR_REFERENCES: Readonly<Record<string, Rgb>> = {
  black: 0x282430,
  grey: 0x808088,
  silver: 0xc0c4cc,
  white: 0xf6f4ee,
  red: 0xd03030,
  orange: 0xf08028,
  yellow: 0xf0d038,
  green: 0x48a840,
  teal: 0x28a8a8,
  blue: 0x3c6cd0,
  cyan: 0x88d0f0,
  purple: 0x8c48c0,
  lilac: 0xc8a0e8,
  pink: 0xf098b8,
  brown: 0x8a5a30,
  beige: 0xdcc098,
};

/** The colour names, in table order. */
export const COLOUR_NAMES: readonly string[] = Object.keys(COLOUR_REFERENCES);

/**
 * Squared "redmean" distance x 512 (Riemersma's low-cost approximation of perceived colour
 * difference): (2 + r/256) dR^2 + 4 dG^2 + (2 + (255 - r)/256) dB^2, r the pair's mean red.
 */
export function colourDistance(a: Rgb, b: Rgb): number {
  const meanRed = (red(a) + red(b)) >> 1;
  const dr = red(a) - red(b);
  const dg = green(a) - green(b);
  const db = blue(a) - blue(b);
  return (512 + meanRed) * dr * dr + 1024 * dg * dg + (767 - meanRed) * db * db;
}

/** The name of the nearest of `references` (ties to the earlier entry). */
function nearestName(c: Rgb, references: readonly { name: string; colour: Rgb }[]): string {
  let best = references[0].name;
  let bestDistance = Infinity;
  for (const { name, colour } of references) {
    const distance = colourDistance(c, colour);
    if (distance < bestDistance) {
      best = name;
      bestDistance = distance;
    }
  }
  return best;
}

const REFERENCES = COLOUR_NAMES.map((name) => ({ name, colour: COLOUR_REFERENCES[name] }));

/** Each reference with its highlight and shadow tones as render.ts shades a region. */
const SHADED_REFERENCES = REFERENCES.flatMap(({ name, colour }) =>
  [colour, lighten(colour, LIGHT_AMOUNT), darken(colour, DARK_AMOUNT)].map((tone) => ({ name, colour: tone })),
);

/** The name of a drawn colour (a region's base colour): its nearest reference. */
export function colourName(c: Rgb): string {
  return nearestName(c, REFERENCES);
}

/**
 * The name of a rendered pixel, which shading may have lightened or darkened from its region's
 * colour: its nearest reference or reference tone (so a red cape's shadow is still "red").
 */
export function pixelColourName(c: Rgb): string {
  return nearestName(c, SHADED_REFERENCES);
}
