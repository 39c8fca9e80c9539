/**
 * Textual inversion (Gal et al. 2022, "An Image is Worth One Word"): teach a frozen
 * text-conditioned model a new word from a few example images by learning that word's embedding
 * alone, with the diffusion loss (their eq. 2, Ho et al. 2020's L_simple):
 *
 *   v* = argmin_v  E_{x0, y, eps, t} || eps - eps_theta(sqrt(ab_t) x0 + sqrt(1 - ab_t) eps, t, c_theta(y)) ||^2
 *
 * over the examples x0, captions y drawn from templates that use the new word S* ("a S*", "a red
 * S* with a shield"), eps ~ N(0, I) and t uniform in 1..T; v is the row of the token embedding the
 * new word's id reads, and every other weight (the other rows, the encoder's MLP, the UNet, the
 * BatchNorm statistics) stays as it was, bit for bit.
 *
 * How one row trains: the model is copied into one whose vocabulary has the word appended (a new
 * id V, the embedding grown to [V + 1, E]; extendVocabulary). Each step takes the loss's gradient
 * with respect to the embedding table alone, keeps its last row, and lets Adam move a separate
 * [1, E] variable by it; the table is then rewritten as the frozen rows (a copy made once) with
 * that row under them. The other rows are only ever copied, so they cannot drift, and no other
 * weight is handed to the gradient or the optimizer at all.
 *
 * The model runs in inference mode (BatchNorm on its running statistics), as the samplers run
 * it: the word is learnt for the network that will draw it. Training mode would normalise a batch
 * of 3-5 look-alike sprites by their own statistics, a network the sampler never runs.
 */
import * as tf from "@tensorflow/tfjs-core";
import { Prng, deriveSeed } from "../data/sprites/prng";
import { addNoise } from "../diffusion/forward";
import type { Schedule } from "../diffusion/schedule";
import { yieldToEventLoop } from "../eventLoop";
import { seededNormal } from "../seededNormal";
import { Adam } from "../train/adam";
import { TOKEN_EMBEDDING_KEY } from "./captionEncoder";
import { type InversionTemplates, resolveTemplates } from "./inversionTemplates";
import { TextContextUnet } from "./textContextUnet";
import { FIRST_WORD_ID, tokenizeWords } from "./tokenizer";

/** The embedding's key in a TextContextUnet's store. */
const EMBEDDING = `encoder.${TOKEN_EMBEDDING_KEY}`;

/**
 * The defaults, for a 64-wide embedding row of a model trained on the sprites. One row is 64
 * numbers, so a step costs one forward and backward pass of the UNet on the batch and nothing
 * more: 0.15 s at batch 16 for the course's UNet (native TensorFlow, one thread, this machine),
 * 1,000 steps in about 2.5 min. Adam moves each coordinate by about `learningRate` a step whatever
 * the gradient's scale; the word rows' entries are O(1) (N(0, 1) at initialisation), so 0.02
 * crosses a row's scale in 50-100 steps of agreeing gradients, and 1,000 steps leave room for the
 * many that do not agree: one batch's loss varies with its t far more than with the word. 1,000
 * steps of 16 draws are 16,000 (example, caption, t, eps) draws, 3,200 per example at K = 5. Gal
 * et al. took 5,000 steps for a 768-wide row of a latent-diffusion model.
 */
export const INVERSION_DEFAULTS = Object.freeze({ steps: 1000, batchSize: 16, learningRate: 0.02, seed: 0, progressEvery: 25, evaluationDraws: 64 });

export interface InversionProgress {
  /** Steps done, of `steps`. */
  step: number;
  steps: number;
  /** The mean training loss over the steps since the last report. */
  loss: number;
}

export interface TextualInversionOptions {
  /** The new word, one token as the tokenizer reads it: a placeholder such as "<robot>" (or plain lower-case letters). */
  token: string;
  /** A vocabulary word whose row the new one starts from (the kind the examples resemble); default the mean of the word rows. */
  initWord?: string;
  /**
   * Captions using the new word, where `{token}` (or the word itself) stands for it: one list for
   * every example, or one list per example (exampleTemplates makes them from a sprite's
   * attributes). Every other word must be in the model's vocabulary. Default DEFAULT_INVERSION_TEMPLATES.
   */
  templates?: InversionTemplates;
  steps?: number;
  batchSize?: number;
  learningRate?: number;
  /** Draws of example, caption, t and eps (and the evaluation's): the same seed, the same row. */
  seed?: number;
  /** Steps between progress reports (and loss read-backs). */
  progressEvery?: number;
  /** Called every progressEvery steps and at the end; return "stop" to stop there (the row learnt so far is kept). */
  onProgress?: (progress: InversionProgress) => void | "stop";
  /** Draws of the fixed evaluation the loss before and after are measured on. */
  evaluationDraws?: number;
}

export interface TextualInversionResult {
  /** The extended model: the new word usable in prompts. The caller owns it (dispose()). */
  model: TextContextUnet;
  token: string;
  /** The new word's id: the old vocabulary size. */
  tokenId: number;
  /** The row it started from: initWord, or "mean of the word rows". */
  initialisedFrom: string;
  steps: number;
  /** K, the examples it learnt from. */
  exampleCount: number;
  /** Mean training loss per report interval, in order. */
  losses: number[];
  /** L_simple on one fixed draw (evaluationDraws of example, caption, t, eps), before and after: comparable numbers. */
  evaluationLoss: { before: number; after: number };
  seconds: number;
}

/** Throws unless `token` reads as one word that `model`'s vocabulary lacks. */
function checkNewToken(model: TextContextUnet, token: string): void {
  const words = tokenizeWords(token);
  if (words.length !== 1 || words[0] !== token) {
    throw new Error(`Textual inversion: the new word must be one token, a placeholder such as "<robot>" or lower-case letters; "${token}" reads as [${words.join(", ")}].`);
  }
  const known = model.tokenizer.words.indexOf(token);
  if (known >= 0) {
    throw new Error(`Textual inversion: "${token}" is already in the model's vocabulary (id ${FIRST_WORD_ID + known}); inversion learns a word the model lacks. Choose a new one, e.g. "<${token.replace(/[<>]/g, "")}-new>".`);
  }
}

/**
 * A copy of `model` whose vocabulary has `token` appended (id = the old vocabulary size) and whose
 * embedding has one more row, `initWord`'s row or the mean of the word rows (ids 2..V - 1); every
 * other weight is copied bit for bit. Throws for a token already in the vocabulary or an initWord
 * outside it. The caller owns the result; `model` is not changed.
 */
export async function extendVocabulary(model: TextContextUnet, token: string, initWord?: string): Promise<TextContextUnet> {
  checkNewToken(model, token);
  const words = model.tokenizer.words;
  if (initWord !== undefined && !words.includes(initWord)) {
    throw new Error(`Textual inversion: the init word "${initWord}" is not in the model's vocabulary of ${words.length} words (${words.slice(0, 12).join(", ")}, ...); give one of them, or none for the mean of the word rows.`);
  }
  const weights = await model.getWeights();
  const table = weights[EMBEDDING];
  const [V, E] = table.shape;
  const row = new Float32Array(E);
  if (initWord !== undefined) row.set(table.data.subarray((FIRST_WORD_ID + words.indexOf(initWord)) * E, (FIRST_WORD_ID + words.indexOf(initWord) + 1) * E));
  else {
    for (let id = FIRST_WORD_ID; id < V; id++) for (let e = 0; e < E; e++) row[e] += table.data[id * E + e];
    for (let e = 0; e < E; e++) row[e] /= V - FIRST_WORD_ID;
  }
  const grown = new Float32Array((V + 1) * E);
  grown.set(table.data);
  grown.set(row, V * E);
  const { vocabularySize: _size, ...encoder } = model.config.encoder;
  const extended = new TextContextUnet({ vocabulary: [...words, token], encoder, unet: model.config.unet });
  extended.setWeights({ ...weights, [EMBEDDING]: { shape: [V + 1, E], data: grown } });
  return extended;
}

/** One batch of draws: which example and caption (row of the captions' ids), t, and eps' seed. */
function drawBatch(seed: number, stream: number, step: number, size: number, templates: string[][], offsets: number[], T: number) {
  const rng = new Prng(deriveSeed(seed, stream, step));
  const example = Int32Array.from({ length: size }, () => rng.int(templates.length));
  const caption = Int32Array.from(example, (k) => offsets[k] + rng.int(templates[k].length));
  const t = Array.from({ length: size }, () => 1 + rng.int(T));
  return { example, caption, t, noiseSeed: deriveSeed(seed, stream + 1, step) };
}

/** L_simple (eq. 2) of the model in inference mode on one batch of draws; a scalar the caller owns. */
function inversionLoss(model: TextContextUnet, schedule: Schedule, examples: tf.Tensor4D, captionIds: tf.Tensor2D, draw: ReturnType<typeof drawBatch>): tf.Scalar {
  return tf.tidy(() => {
    const n = draw.t.length;
    const noise = seededNormal<tf.Rank.R4>([n, ...(examples.shape.slice(1) as [number, number, number])], draw.noiseSeed);
    const xt = addNoise(schedule, tf.gather(examples, tf.tensor1d(draw.example, "int32")), draw.t, noise);
    const context = tf.gather(captionIds, tf.tensor1d(draw.caption, "int32")) as tf.Tensor2D;
    const predNoise = model.predictNoise(xt, tf.div(tf.tensor1d(draw.t), schedule.T) as tf.Tensor1D, context);
    return tf.mean(tf.squaredDifference(predNoise, noise)) as tf.Scalar;
  });
}

/** Checks the examples: [K, H, W, C] of the model's image shape, K >= 1, finite values in [-1, 1]. */
function checkExamples(model: TextContextUnet, examples: tf.Tensor4D): void {
  const [h, w, c] = model.imageShape;
  if (examples.rank !== 4 || examples.shape[0] < 1 || examples.shape[1] !== h || examples.shape[2] !== w || examples.shape[3] !== c) {
    throw new Error(`Textual inversion: the examples have shape [${examples.shape}], expected [K, ${h}, ${w}, ${c}] (K >= 1; 3-5 sprites of the new kind, NHWC in [-1, 1]).`);
  }
  const [lo, hi] = tf.tidy(() => [tf.min(examples).dataSync()[0], tf.max(examples).dataSync()[0]]);
  if (!(lo >= -1 && hi <= 1)) throw new Error(`Textual inversion: the examples' values span [${lo}, ${hi}]; they must be in [-1, 1] (uint8 sprites: x / 127.5 - 1).`);
}

/**
 * Learns the embedding of a new word `options.token` from `examples` (see the module comment):
 * @param model     a trained TextContextUnet; never changed.
 * @param schedule  the schedule it was trained with (loadNoiseModel's).
 * @param examples  [K, H, W, C] float32 in [-1, 1] (K = 3-5 sprites of a kind its captions never name).
 * @returns         the extended model (the caller owns it) with the word's id, losses and timing.
 * Throws for a token already in the vocabulary, an unknown init word, templates that do not use
 * the token or use unknown words, and examples of the wrong shape or range. Leaves no tensors.
 */
export async function invertToken(model: TextContextUnet, schedule: Schedule, examples: tf.Tensor4D, options: TextualInversionOptions): Promise<TextualInversionResult> {
  const started = Date.now();
  const { steps, batchSize, learningRate, seed, progressEvery, evaluationDraws } = { ...INVERSION_DEFAULTS, ...definedOnly(options) };
  for (const [name, value] of Object.entries({ steps, batchSize, progressEvery, evaluationDraws })) {
    if (!Number.isInteger(value) || value < (name === "steps" ? 0 : 1)) throw new Error(`Textual inversion: ${name} must be a whole number >= ${name === "steps" ? 0 : 1}, got ${value}.`);
  }
  if (!(learningRate > 0)) throw new Error(`Textual inversion: learningRate must be > 0, got ${learningRate}.`);
  checkNewToken(model, options.token);
  checkExamples(model, examples);
  const templates = resolveTemplates(options.templates, options.token, examples.shape[0]);
  const extended = await extendVocabulary(model, options.token, options.initWord);
  const table = extended.parameters.get(EMBEDDING);
  const [V, E] = table.shape;
  const frozen = tf.tidy(() => tf.slice(table, [0, 0], [V - 1, E]));
  const initialRow = tf.slice(table, [V - 1, 0], [1, E]);
  const row = tf.variable(initialRow, true);
  initialRow.dispose(); // tf.variable keeps its own copy
  const adam = new Adam(new Map([["new_token_embedding", row]]));
  let captionIds: tf.Tensor2D | null = null;
  let pending: tf.Scalar[] = [];
  try {
    captionIds = extended.captionContexts(templates.flat());
    const offsets = templates.map((_, k) => templates.slice(0, k).reduce((n, list) => n + list.length, 0));
    const evaluate = (): number => {
      const loss = inversionLoss(extended, schedule, examples, captionIds!, drawBatch(seed, 0xe7a1, 0, evaluationDraws, templates, offsets, schedule.T));
      const value = loss.dataSync()[0];
      loss.dispose();
      return value;
    };
    const before = evaluate();
    const losses: number[] = [];
    let done = 0;
    while (done < steps) {
      const draw = drawBatch(seed, 0x1b7e, done, batchSize, templates, offsets, schedule.T);
      const { value, grads } = tf.variableGrads(() => inversionLoss(extended, schedule, examples, captionIds!, draw), [table]);
      tf.tidy(() => {
        adam.apply({ [row.name]: tf.slice(grads[table.name], [V - 1, 0], [1, E]) }, learningRate);
        table.assign(tf.concat([frozen, row]));
      });
      tf.dispose(grads);
      pending.push(value);
      done += 1;
      if (done % progressEvery !== 0 && done !== steps) continue;
      const mean = tf.tidy(() => tf.mean(tf.stack(pending)));
      const loss = (await mean.data())[0];
      tf.dispose([mean, ...pending]);
      pending = [];
      losses.push(loss);
      if (options.onProgress?.({ step: done, steps, loss }) === "stop") break;
      await yieldToEventLoop();
    }
    return {
      model: extended,
      token: options.token,
      tokenId: V - 1,
      initialisedFrom: options.initWord ?? "mean of the word rows",
      steps: done,
      exampleCount: examples.shape[0],
      losses,
      evaluationLoss: { before, after: evaluate() },
      seconds: (Date.now() - started) / 1000,
    };
  } catch (error) {
    extended.dispose();
    throw error;
  } finally {
    tf.dispose([frozen, row, ...pending, ...(captionIds ? [captionIds] : [])]);
    adam.dispose();
  }
}

/** The options that are set (an explicit undefined keeps the default). */
function definedOnly<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) as Partial<T>;
}
