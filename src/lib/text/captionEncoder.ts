/**
 * The caption encoder: token ids of a caption (./tokenizer.ts) to the context vector a ContextUnet
 * takes in place of its one-hot class, trained jointly with it. A bag of words through an MLP:
 *
 *   e_n    = (1 / |S_n|) sum_{i in S_n} E[id_{n,i}],  S_n = caption n's word positions      [N, E]
 *            (neither <pad> nor <unk>; e_n = 0 when |S_n| = 0: the empty caption)
 *   c_n    = W_2 GELU(W_1 e_n + b_1) + b_2                                                 [N, contextSize]
 *
 * so the empty caption's context is the learned constant W_2 GELU(b_1) + b_2: the "no caption"
 * vector classifier-free guidance contrasts with.
 *
 * Why pooled and not a transformer: the captions are at most 15 words from five templates, and
 * their words without order still say what a sprite is. In the project's set (seed 0), the 1,571
 * distinct captions make 1,534 distinct bags of words, and no bag belongs to two kinds (a part
 * that is also a kind, "a warrior with a sword", comes with the kind it belongs to). The 37 bags
 * shared by two captions are template 4's two-colour ones ("a knight in red and silver" and "...
 * in silver and red"): which colour is the main one is lost there, and template 1 ("a red
 * knight") still names it alone. A one-layer transformer would add attention, position
 * embeddings and their twin for those 37.
 *
 * The mean is one product: the rows' token counts (a sum of one-hots, pads dropped) times E. A
 * gather is cheaper forward, but its gradient is a scatter the wasm backend lacks (as in
 * ../ardm/transformer.ts); at the sprites' V = 154 ids the product is tiny.
 *
 * Names and layout are those of the PyTorch twin (bench/caption_encoder_torch.py):
 * token_embedding = nn.Embedding(V, E, padding_idx=0) (N(0, 1), row 0 zero, as PyTorch initialises
 * it), mlp = nn.Sequential(Linear(E, H), GELU(), Linear(H, contextSize)) (PyTorch's default init).
 * Row 0 (<pad>) is never read, so its gradient is always zero, as padding_idx makes it in PyTorch.
 * Row 1 (<unk>) is never read either: captions made from the vocabulary never contain it, so its
 * row would keep its initial draw, and pooling that untrained vector would move a prompt's context
 * by noise. Masked like the pads, a prompt read with { unknown: "unk" } means its known words only
 * ("a red dragon" pools as "a red"), and one of unknown words alone is the empty caption.
 */
import * as tf from "@tensorflow/tfjs-core";
import { applyLinear, gelu, linearSpecs } from "../model/layers";
import type { ParameterSpec } from "../model/parameters";
import { ParameterizedNetwork } from "../model/parameterizedNetwork";
import { seededNormal } from "../seededNormal";
import { FIRST_WORD_ID } from "./tokenizer";

export interface CaptionEncoderConfig {
  /** Token ids V: the tokenizer's size (its words, <pad> and <unk>). */
  vocabularySize: number;
  /** Token ids per caption L (the captions' longest is 15 words). */
  maxTokens: number;
  /** Width E of a word's embedding. */
  embeddingWidth: number;
  /** Width H of the MLP's hidden layer. */
  hiddenWidth: number;
  /** Length of the context vector: the ContextUnet's nContext. */
  contextSize: number;
}

/** Every size but the vocabulary's, for the sprite captions: 16 tokens, E = 64, H = 128, context 32. */
export const CAPTION_ENCODER_DEFAULTS: Readonly<Omit<CaptionEncoderConfig, "vocabularySize">> = Object.freeze({
  maxTokens: 16,
  embeddingWidth: 64,
  hiddenWidth: 128,
  contextSize: 32,
});

/** The token embedding's key: the one weight textual inversion trains (one new row of it). */
export const TOKEN_EMBEDDING_KEY = "token_embedding.weight";

/** A copy of `config`, checked: every field a whole number >= 1, vocabularySize >= 3; the error names the first bad field. */
export function checkCaptionEncoderConfig(config: CaptionEncoderConfig): Readonly<CaptionEncoderConfig> {
  const fields: Array<keyof CaptionEncoderConfig> = ["vocabularySize", "maxTokens", "embeddingWidth", "hiddenWidth", "contextSize"];
  for (const field of fields) {
    const value = config[field];
    const least = field === "vocabularySize" ? 3 : 1;
    if (!Number.isInteger(value) || value < least) {
      throw new Error(
        `CaptionEncoder: ${field} must be a whole number >= ${least}${field === "vocabularySize" ? " (<pad>, <unk> and at least one word: the tokenizer's size)" : ""}, got ${value}.`,
      );
    }
  }
  const extra = Object.keys(config).filter((key) => !fields.includes(key as keyof CaptionEncoderConfig));
  if (extra.length > 0) throw new Error(`CaptionEncoder: unknown config field${extra.length > 1 ? "s" : ""} ${extra.join(", ")}; it takes ${fields.join(", ")}.`);
  return Object.freeze({ ...config });
}

function architecture(c: CaptionEncoderConfig): ParameterSpec[] {
  return [
    // Layout [V, E] as nn.Embedding's; drawn from N(0, 1) after creation.
    { key: TOKEN_EMBEDDING_KEY, shape: [c.vocabularySize, c.embeddingWidth], kind: "zeros", trainable: true },
    ...linearSpecs("mlp.0", c.embeddingWidth, c.hiddenWidth),
    ...linearSpecs("mlp.2", c.hiddenWidth, c.contextSize),
  ];
}

export class CaptionEncoder extends ParameterizedNetwork {
  readonly config: Readonly<CaptionEncoderConfig>;

  /**
   * Builds the encoder with PyTorch's initialisation (see the module comment), reproducible from
   * `seed`; throws naming the first bad field of `config`. It owns its variables: dispose() it.
   */
  constructor(config: CaptionEncoderConfig, seed = 0) {
    super("CaptionEncoder");
    this.config = checkCaptionEncoderConfig(config);
    architecture(this.config).forEach((spec, i) => {
      const variable = this.parameters.create(spec, seed * 1000 + i);
      if (spec.key !== TOKEN_EMBEDDING_KEY) return;
      // N(0, 1) rows under a zero row for <pad> (id 0), as nn.Embedding(padding_idx=0) starts.
      tf.tidy(() => {
        const [V, E] = spec.shape;
        variable.assign(tf.concat([tf.zeros([1, E]), tf.slice(seededNormal([V, E], seed * 1000 + i), [1, 0], [V - 1, E])]));
      });
    });
  }

  /** The token embedding's parameter key (TOKEN_EMBEDDING_KEY): what textual inversion trains. */
  get embeddingKey(): string {
    return TOKEN_EMBEDDING_KEY;
  }

  /**
   * The mean embedding e_n of each caption's words (the module comment), the MLP's input.
   * @param tokenIds  [N, maxTokens] float32 (or int32) token ids in 0..V - 1 as the tokenizer
   *                  makes them, 0 = pad, 1 = unknown word (both left out of the mean); an id
   *                  outside that range would count as no word.
   * @returns         [N, embeddingWidth], zeros for a row without words; owned by the caller.
   */
  pooledEmbedding(tokenIds: tf.Tensor2D): tf.Tensor2D {
    this.checkTokenIds(tokenIds);
    const { vocabularySize: V, embeddingWidth: E } = this.config;
    const n = tokenIds.shape[0];
    return tf.tidy(() => {
      const ids = tf.cast(tokenIds, "int32");
      // counts[n, v] = how often word v occurs in caption n; columns 0 and 1 (<pad>, <unk>) and those rows of E dropped.
      const counts = tf.sum(tf.oneHot(ids, V, 1, 0, "float32"), 1) as tf.Tensor2D;
      const wordCounts = tf.slice(counts, [0, FIRST_WORD_ID], [n, V - FIRST_WORD_ID]);
      const words = tf.slice(this.parameters.get(TOKEN_EMBEDDING_KEY), [FIRST_WORD_ID, 0], [V - FIRST_WORD_ID, E]) as tf.Tensor2D;
      const length = tf.maximum(tf.sum(wordCounts, 1, true), 1);
      return tf.div(tf.matMul(wordCounts, words), length) as tf.Tensor2D;
    });
  }

  /**
   * The context vectors c_n of some captions' token ids (the module comment).
   * @param tokenIds  as pooledEmbedding: [N, maxTokens] ids, float32 so that they can travel as a
   *                  model's context tensor; all zeros = the empty caption.
   * @returns         [N, contextSize] float32, owned by the caller.
   */
  encode(tokenIds: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      const hidden = gelu(applyLinear(this.parameters, "mlp.0", this.pooledEmbedding(tokenIds))) as tf.Tensor2D;
      return applyLinear(this.parameters, "mlp.2", hidden);
    });
  }

  private checkTokenIds(tokenIds: tf.Tensor2D): void {
    const { maxTokens } = this.config;
    if (tokenIds.rank !== 2 || tokenIds.shape[1] !== maxTokens) {
      throw new Error(
        `CaptionEncoder: token ids have shape [${tokenIds.shape}], expected [N, ${maxTokens}] (one row of ${maxTokens} ids per caption, ` +
          "padded with 0: WordTokenizer.encode makes them).",
      );
    }
  }
}
