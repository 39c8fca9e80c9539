/**
 * Textual inversion's files: the text model it starts from (a checkpoint that must hold a
 * TextContextUnet), the example sprites (a .npy as the sprite set's, or floats in [-1, 1]), and
 * the extended model it writes, a checkpoint loadNoiseModel reads like any other (atomically, by
 * ../train/checkpoint.ts) with its log beside it.
 */
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { readFileSync } from "node:fs";
import { type NpyArray, formatShape, readNpy } from "../data/npy";
import { HELD_OUT_FORMAT, type HeldOutRecord } from "../data/sprites/heldOut";
import { writeFileAtomic } from "../train/atomicFile";
import { saveCheckpoint } from "../train/checkpoint";
import { architectureOf } from "../model/architecture";
import { LIBRARY_VERSION, type LoadedModel, type LoadedNoiseModel, loadNoiseModel, type WeightChoice } from "../train/trainingCheckpoint";
import { TextContextUnet } from "./textContextUnet";
import { exampleTemplates } from "./inversionTemplates";
import type { TextualInversionResult } from "./textualInversion";

/** The log written beside the extended checkpoint. */
export const INVERSION_LOG_FILE = "inversion-log.json";

/**
 * The text model of checkpoint `dir` (its EMA weights when kept, as sampling takes them); a
 * checkpoint of another architecture is freed and refused, saying what it holds and what is needed.
 */
export function loadTextModel(dir: string, options: { weights?: WeightChoice } = {}): LoadedModel<TextContextUnet> {
  const loaded: LoadedNoiseModel = loadNoiseModel(dir, options);
  if (loaded.model instanceof TextContextUnet) return loaded as LoadedModel<TextContextUnet>;
  const name = loaded.manifest.architecture.name;
  loaded.model.dispose();
  const context = name === "ContextUnet" ? " (a class-conditioned model: its context is a one-hot class, not words)" : "";
  throw new Error(
    `${dir} holds ${/^[AEIOU]/.test(name) ? "an" : "a"} ${name}${context}; textual inversion needs a TextContextUnet, a caption-conditioned model ` +
      "(train one with `npm run train -- --text`, e.g. models/text).",
  );
}

/**
 * Example sprites from a .npy array as the model takes them: [K, H, W, C] float32 in [-1, 1].
 * uint8 (the sprite set's layout, 0..255) becomes x / 127.5 - 1; float32/float64 must already be in
 * [-1, 1]. Throws naming `source`, the shape or range seen and the one expected. Caller owns the tensor.
 */
export function examplesFromNpy(array: NpyArray, imageShape: readonly [number, number, number], source: string): tf.Tensor4D {
  const [h, w, c] = imageShape;
  const { shape, dtype, data } = array;
  if (shape.length !== 4 || shape[0] < 1 || shape[1] !== h || shape[2] !== w || shape[3] !== c) {
    throw new Error(
      `${source}: the examples have shape ${formatShape(shape)}, expected (K, ${h}, ${w}, ${c}): K >= 1 sprites (3-5 of one kind), NHWC, ` +
        `as \`npm run held-out-sprites\` writes them (a single sprite is (1, ${h}, ${w}, ${c})).`,
    );
  }
  if (dtype === "uint8") return tf.tidy(() => tf.sub(tf.div(tf.tensor4d(data as Uint8Array, shape as [number, number, number, number], "float32"), 127.5), 1) as tf.Tensor4D);
  let lo = Infinity;
  let hi = -Infinity;
  for (const value of data) {
    lo = Math.min(lo, value);
    hi = Math.max(hi, value);
  }
  if (!(lo >= -1 && hi <= 1)) throw new Error(`${source}: ${dtype} values span [${lo}, ${hi}]; float examples must be in [-1, 1] (or store uint8 0..255).`);
  return tf.tensor4d(Float32Array.from(data), shape as [number, number, number, number], "float32");
}

/** readNpy then examplesFromNpy. */
export function readExamples(path: string, imageShape: readonly [number, number, number]): tf.Tensor4D {
  return examplesFromNpy(readNpy(path), imageShape, path);
}

/**
 * Per-example templates from the JSON `npm run held-out-sprites` writes beside its .npy: each
 * sprite's captions by the generator's templates, its kind replaced by `token` (exampleTemplates).
 * Throws naming the file unless it is such a record of `count` sprites.
 */
export function readExampleTemplates(path: string, token: string, count: number): string[][] {
  let record: HeldOutRecord;
  try {
    record = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new Error(`${path}: cannot read it as JSON (${(error as Error).message}).`);
  }
  if (record?.format !== HELD_OUT_FORMAT || !Array.isArray(record.sprites)) {
    throw new Error(`${path}: not a "${HELD_OUT_FORMAT}" record (format ${JSON.stringify(record?.format)}); --captions takes the .json that \`npm run held-out-sprites\` writes beside its .npy.`);
  }
  if (record.sprites.length !== count) throw new Error(`${path}: describes ${record.sprites.length} sprites, but the examples are ${count}; give the .json written with them.`);
  return record.sprites.map((attributes) => exampleTemplates(attributes, token));
}

/** What the log records of a run (the checkpoint's manifest says the rest). */
export interface InversionLog {
  token: string;
  tokenId: number;
  initialisedFrom: string;
  steps: number;
  finalLoss: number | null;
  evaluationLoss: { before: number; after: number };
  losses: number[];
  seconds: number;
  source: { checkpoint: string; weights: string; examples: string; exampleCount: number };
  options: Record<string, unknown>;
}

/**
 * Writes the extended model as a checkpoint in `dir` (weights only, the source's schedule; its
 * data field names the source checkpoint and the examples) and the run's log as
 * INVERSION_LOG_FILE, both atomically. loadNoiseModel(dir) then gives a TextContextUnet whose
 * tokenizer knows the new word.
 */
export async function saveInversion(
  dir: string,
  result: TextualInversionResult,
  source: LoadedModel<TextContextUnet>,
  run: { checkpoint: string; examples: string; options: Record<string, unknown> },
): Promise<InversionLog> {
  const { model } = result;
  const from = { checkpoint: run.checkpoint, weights: source.weightsLabel, examples: run.examples, exampleCount: result.exampleCount };
  saveCheckpoint(
    dir,
    {
      libraryVersion: LIBRARY_VERSION,
      architecture: { ...architectureOf(model), parameterCount: model.parameterCount },
      schedule: { ...source.manifest.schedule },
      training: null,
      data: { fingerprint: source.manifest.data?.fingerprint ?? "", count: from.exampleCount, source: `textual inversion of ${from.checkpoint} (${from.weights}) on ${from.examples}: new word ${result.token} = id ${result.tokenId}` },
      backend: tf.getBackend(),
    },
    { model: await model.getWeights() },
  );
  const written: InversionLog = {
    token: result.token,
    tokenId: result.tokenId,
    initialisedFrom: result.initialisedFrom,
    steps: result.steps,
    finalLoss: result.losses.length > 0 ? result.losses[result.losses.length - 1] : null,
    evaluationLoss: result.evaluationLoss,
    losses: result.losses,
    seconds: result.seconds,
    source: from,
    options: run.options,
  };
  writeFileAtomic(join(dir, INVERSION_LOG_FILE), new TextEncoder().encode(`${JSON.stringify(written, null, 2)}\n`));
  return written;
}
