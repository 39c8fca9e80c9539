/**
 * A word-level tokenizer over a caption vocabulary: each known word is one token id, every other
 * word either an error that names it or the unknown-word token.
 *
 *   ids: 0 = "<pad>" (fills a caption up to maxTokens; the empty caption is all pads),
 *        1 = "<unk>" (a word outside the vocabulary, when asked to read it so),
 *        2 + i = vocabulary[i], in the order given (loadSpriteCaptions' vocabulary is sorted).
 *
 * Words: the text in lower case, split on everything that is not a letter (spaces, the captions'
 * commas, any other punctuation), as the captions' vocabulary is made (captionWords in
 * ../data/sprites/captions.ts), so every caption tokenizes to exactly its vocabulary words. One
 * exception: a placeholder in angle brackets such as "<new>" stays one word, the form textual
 * inversion gives a word it teaches the model.
 */

/** Id 0: padding, and the whole of the empty caption. */
export const PAD_ID = 0;
/** Id 1: a word outside the vocabulary (only with { unknown: "unk" }); the caption encoder leaves it out, as it does pads. */
export const UNKNOWN_ID = 1;
/** Id of the vocabulary's first word; every id from here on is a word. */
export const FIRST_WORD_ID = 2;
export const PAD_TOKEN = "<pad>";
export const UNKNOWN_TOKEN = "<unk>";
const RESERVED = [PAD_TOKEN, UNKNOWN_TOKEN];

/** A placeholder "<word>" (letters, digits, _ or -), or a run of letters. */
const WORD_PATTERN = /<[a-z0-9_-]+>|[a-z]+/g;

/** The words of a text as the tokenizer reads them (see the module comment). */
export function tokenizeWords(text: string): string[] {
  return text.toLowerCase().match(WORD_PATTERN) ?? [];
}

/** What encode does with a word outside the vocabulary: throw naming it (the default), or read it as <unk>. */
export interface EncodeOptions {
  unknown?: "error" | "unk";
}

/** The tokenizer as a checkpoint stores it. */
export interface WordTokenizerJson {
  vocabulary: string[];
}

/** Throws unless maxTokens is a whole number >= 1. */
function checkMaxTokens(maxTokens: number): void {
  if (!Number.isInteger(maxTokens) || maxTokens < 1) throw new Error(`WordTokenizer: maxTokens must be a whole number >= 1 (the captions' longest is 15 words), got ${maxTokens}.`);
}

export class WordTokenizer {
  /** The vocabulary: word i has id 2 + i. */
  readonly words: readonly string[];
  private readonly ids: ReadonlyMap<string, number>;

  /**
   * From a vocabulary (e.g. loadSpriteCaptions(dir).vocabulary). Throws unless every entry is one
   * word as tokenizeWords reads it (lower-case letters, or a "<placeholder>"), none repeats and
   * none is "<pad>" or "<unk>".
   */
  constructor(vocabulary: readonly string[]) {
    const problems: string[] = [];
    const ids = new Map<string, number>();
    vocabulary.forEach((word, i) => {
      const read = typeof word === "string" ? tokenizeWords(word) : [];
      if (RESERVED.includes(word)) problems.push(`"${word}" is reserved (ids 0 and 1)`);
      else if (read.length !== 1 || read[0] !== word) problems.push(`"${word}" is not one lower-case word (it reads as [${read.join(", ")}])`);
      else if (ids.has(word)) problems.push(`"${word}" is listed twice`);
      else ids.set(word, 2 + i);
    });
    if (problems.length > 0) throw new Error(`WordTokenizer: the vocabulary has bad entries: ${problems.join("; ")}. Build it from captions with captionVocabulary.`);
    this.words = Object.freeze([...vocabulary]);
    this.ids = ids;
  }

  /** The number of token ids V: the vocabulary and the two reserved tokens. */
  get size(): number {
    return this.words.length + RESERVED.length;
  }

  /** The word of an id ("<pad>" and "<unk>" for 0 and 1); throws for an id outside 0..size - 1. */
  wordOf(id: number): string {
    if (!Number.isInteger(id) || id < 0 || id >= this.size) {
      throw new Error(`WordTokenizer: token id ${id} is outside 0..${this.size - 1} (this tokenizer's ${this.words.length} words and <pad>, <unk>).`);
    }
    return id < RESERVED.length ? RESERVED[id] : this.words[id - RESERVED.length];
  }

  /** The words of `text` outside the vocabulary, each once, in order of appearance ([] when it has none). */
  unknownWords(text: string): string[] {
    return [...new Set(tokenizeWords(text).filter((word) => !this.ids.has(word)))];
  }

  /**
   * A caption as maxTokens token ids: its words' ids in order, then pads (0). "" and captions
   * without words give all pads: the empty caption, classifier-free guidance's "no context".
   * Throws one error naming every unknown word (unless options.unknown is "unk") and, in the same
   * message, a caption longer than maxTokens words.
   */
  encode(caption: string, maxTokens: number, options: EncodeOptions = {}): Int32Array {
    return this.encodeBatch([caption], maxTokens, options);
  }

  /**
   * Several captions as [captions.length, maxTokens] ids, row-major (encode's rows); one error
   * lists the unknown words and the too-long captions of all of them.
   */
  encodeBatch(captions: readonly string[], maxTokens: number, options: EncodeOptions = {}): Int32Array {
    checkMaxTokens(maxTokens);
    const unknownMode = options.unknown ?? "error";
    if (unknownMode !== "error" && unknownMode !== "unk") throw new Error(`WordTokenizer: unknown must be "error" or "unk", got "${unknownMode}".`);
    const ids = new Int32Array(captions.length * maxTokens);
    const unknown = new Set<string>();
    const tooLong: string[] = [];
    captions.forEach((caption, row) => {
      const words = tokenizeWords(caption);
      if (words.length > maxTokens) tooLong.push(`"${caption}" has ${words.length} words`);
      words.forEach((word, position) => {
        const id = this.ids.get(word);
        if (id === undefined) unknown.add(word);
        if (position < maxTokens) ids[row * maxTokens + position] = id ?? UNKNOWN_ID;
      });
    });
    const problems: string[] = [];
    if (unknown.size > 0 && unknownMode === "error") {
      problems.push(
        `unknown word${unknown.size > 1 ? "s" : ""} ${[...unknown].map((w) => `"${w}"`).join(", ")}: the model knows only its captions' ` +
          `${this.words.length} words (${this.words.join(", ")}). Rephrase with those, encode with { unknown: "unk" } to read ` +
          "the others as <unk> (which the caption encoder leaves out: the prompt then means its known words), " +
          "or teach the model a new word by textual inversion (it learns that word's embedding)",
      );
    }
    if (tooLong.length > 0) problems.push(`${tooLong.join(", ")}; the model reads at most ${maxTokens} (maxTokens): shorten ${tooLong.length > 1 ? "them" : "it"}`);
    if (problems.length > 0) throw new Error(`WordTokenizer: ${problems.join(". And ")}.`);
    return ids;
  }

  /** The words of some token ids, pads left out, joined by single spaces ("<unk>" for 1). */
  decode(ids: ArrayLike<number>): string {
    return Array.from(ids)
      .filter((id) => id !== PAD_ID)
      .map((id) => this.wordOf(id))
      .join(" ");
  }

  /** What a checkpoint stores: the vocabulary (the ids follow from it). */
  toJSON(): WordTokenizerJson {
    return { vocabulary: [...this.words] };
  }

  /** The tokenizer a checkpoint stored (toJSON's value); throws naming `where` if it is not one. */
  static fromJSON(json: unknown, where = "tokenizer"): WordTokenizer {
    const vocabulary = (json as Partial<WordTokenizerJson> | null)?.vocabulary;
    if (!Array.isArray(vocabulary) || !vocabulary.every((word) => typeof word === "string")) {
      throw new Error(`${where}: expected { vocabulary: [words...] } (a WordTokenizer's toJSON), got ${JSON.stringify(json)?.slice(0, 80)}.`);
    }
    try {
      return new WordTokenizer(vocabulary);
    } catch (error) {
      throw new Error(`${where}: ${(error as Error).message}`);
    }
  }
}
