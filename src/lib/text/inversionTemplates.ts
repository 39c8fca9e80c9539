/**
 * The captions textual inversion trains a new word with: templates where "{token}" stands for the
 * word, as Gal et al.'s "a photo of a {}"; one list for every example, or one per example. A
 * sprite from the generator gets its own captions (templates 1-5 of ../data/sprites/captions.ts)
 * with its kind replaced by the word, so its colour and parts keep their words and the new word is
 * left to say the kind.
 */
import { spriteCaptions } from "../data/sprites/captions";
import type { SpriteAttributes } from "../data/sprites/traits";
import { tokenizeWords } from "./tokenizer";

/** What a template writes where the new word goes. */
export const TOKEN_SLOT = "{token}";

/** Templates when the examples come without attributes: the set's shortest captions, with the kind's word replaced. */
export const DEFAULT_INVERSION_TEMPLATES: readonly string[] = Object.freeze(["a {token}", "{token}"]);

/** One list of templates for every example, or one list per example. */
export type InversionTemplates = readonly string[] | ReadonlyArray<readonly string[]>;

/**
 * The generator's captions of a sprite (templates 1-5 of ../data/sprites/captions.ts) with its
 * kind replaced by `token`: "a red <robot>", "red <robot> monster, front", "a red <robot> with a
 * shield". Colours and parts keep their own words, so the new word is left to say the kind.
 */
export function exampleTemplates(attributes: SpriteAttributes, token: string): string[] {
  return spriteCaptions({ ...attributes, kind: token });
}

/**
 * One caption list per example, the token in place of {token}; throws unless there is one list for
 * all or one per example, none empty, and every caption uses the token.
 */
export function resolveTemplates(templates: InversionTemplates | undefined, token: string, examples: number): string[][] {
  const given = templates ?? DEFAULT_INVERSION_TEMPLATES;
  const perExample = given.length > 0 && typeof given[0] !== "string";
  const lists = (perExample ? (given as ReadonlyArray<readonly string[]>) : Array.from({ length: examples }, () => given as readonly string[])).map((list) =>
    list.map((template) => template.split(TOKEN_SLOT).join(token)),
  );
  if (lists.length !== examples) throw new Error(`Textual inversion: ${lists.length} template lists for ${examples} examples; give one list per example, or one list for all.`);
  const bad = lists.flat().filter((caption) => !tokenizeWords(caption).includes(token));
  if (lists.some((list) => list.length === 0) || bad.length > 0) {
    throw new Error(`Textual inversion: every example needs templates, and each must use the new word (write ${TOKEN_SLOT} or ${token}); ${bad.length > 0 ? `these do not: ${bad.map((c) => `"${c}"`).join(", ")}` : "a list is empty"}.`);
  }
  return lists;
}
