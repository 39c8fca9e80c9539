/**
 * Held-out prompts: kind-and-colour pairs the sprite set draws but the text model never reads, to
 * measure whether it composes words it learnt apart ("red" from other red sprites, "potion" from
 * potions of other colours) into a sprite it was never shown under that caption.
 *
 * A pair is (kind, main colour), the main colour being the first colour a base's captions name
 * ("a red potion", template 1). Holding it out leaves every image of every base with that kind and
 * main colour out of the text model's training, so none of their captions (and no other sprite of
 * that pair) is seen. The pair still exists in the data: its real sprites are what the generated
 * ones are compared with.
 *
 * Which pairs: drawn by the seed among the eligible ones, at most one per kind; a pair is eligible
 * when it has at least minBases bases (real sprites to compare with) and, with the pairs drawn before
 * it left out, its kind keeps at least minBases bases of other main colours and its colour at least
 * minBases bases of other kinds (both words are still taught).
 */
import { Prng, deriveSeed } from "../data/sprites/prng";
import type { SpriteCaptions } from "../data/spriteCaptions";

/** One held-out pair, its prompt (the pair's template-1 caption), and how much of the set it takes. */
export interface HeldOutPair {
  kind: string;
  colour: string;
  prompt: string;
  /** Base sprites of this kind and main colour, and their images. */
  bases: number;
  images: number;
}

export interface HeldOutOptions {
  /** Pairs to hold out (default 24). */
  count?: number;
  /** Draws the pairs (default 0). */
  seed?: number;
  /** See the module comment (default 2). */
  minBases?: number;
}

/** The default number of held-out pairs: the measurement asks for at least 20 prompts. */
export const HELD_OUT_PAIRS = 24;

/** heldOutPairs' error when the set has fewer eligible pairs than asked for; callers can say what to change. */
export class TooFewHeldOutPairsError extends Error {
  constructor(
    readonly available: number,
    readonly requested: number,
    readonly minBases: number,
  ) {
    super(`heldOutPairs: only ${available} kind-and-colour pairs can be held out with at least ${minBases} bases each (asked for ${requested}); ask for fewer or lower minBases.`);
  }
}

const pairKey = (kind: string, colour: string) => `${kind}\u0000${colour}`;

/** The held-out pairs of a captioned set (see the module comment); throws when fewer than `count` are eligible. */
export function heldOutPairs(captions: SpriteCaptions, options: HeldOutOptions = {}): HeldOutPair[] {
  const { count = HELD_OUT_PAIRS, seed = 0, minBases = 2 } = options;
  const basesOf = new Map<string, SpriteCaptions["bases"][number][]>();
  for (const base of captions.bases) {
    const key = pairKey(base.kind, base.colours[0]);
    basesOf.set(key, [...(basesOf.get(key) ?? []), base]);
  }
  const kindBases = new Map<string, number>();
  const colourBases = new Map<string, number>();
  for (const base of captions.bases) {
    kindBases.set(base.kind, (kindBases.get(base.kind) ?? 0) + 1);
    colourBases.set(base.colours[0], (colourBases.get(base.colours[0]) ?? 0) + 1);
  }
  // A seeded shuffle (Fisher-Yates) of the pairs in a fixed order: the same set and seed give the same pairs.
  const candidates = [...basesOf.keys()].sort();
  const prng = new Prng(deriveSeed(seed, 0x4e1d));
  for (let i = candidates.length - 1; i > 0; i--) {
    const j = prng.int(i + 1);
    [candidates[i], candidates[j]] = [candidates[j], candidates[i]];
  }
  const chosen: HeldOutPair[] = [];
  for (const key of candidates) {
    if (chosen.length === count) break;
    const bases = basesOf.get(key)!;
    const { kind, colours } = bases[0];
    const colour = colours[0];
    const kindLeft = kindBases.get(kind)! - bases.length;
    const colourLeft = colourBases.get(colour)! - bases.length;
    if (bases.length < minBases || kindLeft < minBases || colourLeft < minBases || chosen.some((pair) => pair.kind === kind)) continue;
    kindBases.set(kind, kindLeft);
    colourBases.set(colour, colourLeft);
    const images = bases.reduce((sum, base) => sum + base.images[1] - base.images[0], 0);
    chosen.push({ kind, colour, prompt: bases[0].captions[0], bases: bases.length, images });
  }
  if (chosen.length < count) throw new TooFewHeldOutPairsError(chosen.length, count, minBases);
  return chosen;
}

/** Is image i of the set one of a held-out pair's? One flag per image. */
export function heldOutImageMask(captions: SpriteCaptions, pairs: readonly HeldOutPair[]): Uint8Array {
  const held = new Set(pairs.map((pair) => pairKey(pair.kind, pair.colour)));
  return Uint8Array.from(captions.images, (base) => (held.has(pairKey(base.kind, base.colours[0])) ? 1 : 0));
}

/** A kind-and-colour pair the text model did train on, as a held-out pair's control. */
export interface PromptPair {
  kind: string;
  colour: string;
  prompt: string;
}

/**
 * The control of each held-out pair: the same kind in the main colour it has most bases of among
 * the pairs not held out (ties: the first colour name alphabetically), with that pair's prompt.
 * "a red potion" (never trained on) is read against "a blue potion" (trained on): the same kind
 * word, so the gap between them is what composing an unseen pair costs. A held-out pair whose kind
 * has no other trained colour gets no control (left out).
 */
export function trainedCounterparts(captions: SpriteCaptions, heldOut: readonly Pick<PromptPair, "kind" | "colour">[]): PromptPair[] {
  const held = new Set(heldOut.map((pair) => pairKey(pair.kind, pair.colour)));
  const controls: PromptPair[] = [];
  for (const pair of heldOut) {
    const byColour = new Map<string, { bases: number; prompt: string }>();
    for (const base of captions.bases) {
      const colour = base.colours[0];
      if (base.kind !== pair.kind || held.has(pairKey(base.kind, colour))) continue;
      const known = byColour.get(colour);
      byColour.set(colour, { bases: (known?.bases ?? 0) + 1, prompt: known?.prompt ?? base.captions[0] });
    }
    const best = [...byColour.entries()].sort(([a, x], [b, y]) => y.bases - x.bases || (a < b ? -1 : a > b ? 1 : 0))[0];
    if (best) controls.push({ kind: pair.kind, colour: best[0], prompt: best[1].prompt });
  }
  return controls;
}
