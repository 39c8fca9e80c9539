/**
 * One DDPM run in one JSON file (configs/*.json): the data set, the attention UNet's sizes and the
 * training recipe with its linear noise schedule. Version 1. Every key is required except
 * `description`, `dataset.path`, `model.attention` (absent: every block attends, as files
 * written before the key existed meant) and `training.emaDecay` (absent: no EMA, as before the key
 * existed); a file is checked by parseDdpmConfig (./ddpmConfigFile.ts).
 *
 *   {
 *     "version": 1,
 *     "description": "why this size",
 *     "dataset":  { "name": "mnist", "path": "data/mnist", "imageSize": 28, "channels": 1 },
 *     "model":    { "downChannels": [16, 32, 64], "midChannels": [64, 32], "downsample": [true, true],
 *                   "attention": [false, true], "timeEmbeddingSize": 64, "downLayers": 1, "midLayers": 1, "upLayers": 1,
 *                   "attentionHeads": 2, "normGroups": 8, "finalChannels": 16 },
 *     "training": { "T": 1000, "betaStart": 0.0001, "betaEnd": 0.02, "batchSize": 64, "epochs": 5,
 *                   "learningRate": 0.0001, "seed": 0, "out": "models/mnist" }
 *   }
 */
import type { LinearScheduleConfig, ScheduleConfig } from "../diffusion/schedule";
import type { AttentionUnetConfig } from "../model/attentionUnet/config";
import type { ConfigFieldRule } from "./fieldRules";

/** The format version this library reads and writes. */
export const DDPM_CONFIG_VERSION = 1;

/** The data sets a config can name: MNIST digits (IDX files) or procedural textures. */
export const DDPM_DATASET_NAMES = Object.freeze(["mnist", "textures"] as const);
export type DdpmDatasetName = (typeof DDPM_DATASET_NAMES)[number];

export interface DdpmDatasetSection {
  name: DdpmDatasetName;
  /** Where its files are (MNIST's IDX files), relative to the project root; absent for generated data. */
  path?: string;
  /** Image height = width. */
  imageSize: number;
  /** Image channels (MNIST: 1). */
  channels: number;
}

/** The attention UNet's sizes; the image's size and channels come from the dataset section. */
export type DdpmModelSection = Omit<AttentionUnetConfig, "imageSize" | "imageChannels">;

export interface DdpmTrainingSection extends LinearScheduleConfig {
  /** Images per optimizer step. */
  batchSize: number;
  /** Passes over the data. */
  epochs: number;
  /** Adam's learning rate. */
  learningRate: number;
  /** Seed of everything random in the run (weights, order, t, noise). */
  seed: number;
  /** The folder the run writes (checkpoint, samples), relative to the project root. */
  out: string;
  /** Decay of an exponential moving average of the weights, kept beside them and sampled by default (e.g. 0.999); absent: none. */
  emaDecay?: number;
}

export interface DdpmConfig {
  version: typeof DDPM_CONFIG_VERSION;
  /** One line: what the file is for and why its sizes. */
  description?: string;
  dataset: DdpmDatasetSection;
  model: DdpmModelSection;
  training: DdpmTrainingSection;
}

const positive = (doc: string): ConfigFieldRule => ({ type: "integer", min: 1, doc });
const widths = (doc: string): ConfigFieldRule => ({ type: "array", minLength: 2, items: { type: "integer", min: 1, doc: "a width" }, doc });
const probability = (doc: string): ConfigFieldRule => ({ type: "number", above: 0, below: 1, doc });

const datasetRule: Record<keyof DdpmDatasetSection, ConfigFieldRule> = {
  name: { type: "enum", values: DDPM_DATASET_NAMES, doc: "the data set" },
  path: { type: "string", optional: true, doc: "where the data set's files are" },
  imageSize: positive("the image height = width"),
  channels: positive("the image channels (MNIST: 1)"),
};

const modelRule: Record<keyof DdpmModelSection, ConfigFieldRule> = {
  downChannels: widths("the widths of conv_in and of each down block's output, e.g. [32, 64, 128, 256]"),
  midChannels: widths("the widths through the mid blocks, from the last down width to the one before it, e.g. [256, 256, 128]"),
  downsample: { type: "array", minLength: 1, items: { type: "boolean", doc: "a flag" }, doc: "one flag per down block: does it halve H and W" },
  attention: {
    type: "array", minLength: 1, optional: true, items: { type: "boolean", doc: "a flag" },
    doc: "one flag per down block: does it (and its up block) attend after each ResNet; absent: all true",
  },
  timeEmbeddingSize: positive("the size of the sinusoidal time embedding and its MLP (even)"),
  downLayers: positive("ResNet + attention layers per down block"),
  midLayers: positive("attention + ResNet layers per mid block after its first ResNet"),
  upLayers: positive("ResNet + attention layers per up block"),
  attentionHeads: positive("the heads of every self-attention"),
  normGroups: positive("GroupNorm's number of groups"),
  finalChannels: positive("the width of the last up block and the output head (the reference: 16)"),
};

const trainingRule: Record<keyof DdpmTrainingSection, ConfigFieldRule> = {
  T: positive("the number of diffusion steps"),
  betaStart: probability("beta at t = 0 of the linear schedule (e.g. 0.0001)"),
  betaEnd: probability("beta at t = T of the linear schedule (e.g. 0.02)"),
  batchSize: positive("images per optimizer step"),
  epochs: positive("passes over the data"),
  learningRate: { type: "number", above: 0, doc: "Adam's learning rate" },
  seed: { type: "integer", min: 0, doc: "the seed of everything random in the run" },
  out: { type: "string", doc: "the folder the run writes" },
  emaDecay: {
    type: "number", above: 0, below: 1, optional: true,
    doc: "the decay of an EMA of the weights that sampling uses, e.g. 0.999 (absent: no EMA)",
  },
};

/** The whole file's rule; `version` is checked before it (parseDdpmConfig). */
export const DDPM_CONFIG_RULE: ConfigFieldRule = {
  type: "object",
  doc: "a DDPM config",
  fields: {
    version: { type: "integer", min: 1, doc: `the format version (${DDPM_CONFIG_VERSION})` },
    description: { type: "string", optional: true, doc: "what the file is for" },
    dataset: { type: "object", fields: datasetRule, doc: "the data set: name, imageSize, channels" },
    model: { type: "object", fields: modelRule, doc: "the attention UNet's sizes" },
    training: { type: "object", fields: trainingRule, doc: "the schedule and the training recipe" },
  },
};

/** The attention UNet a config describes: its model section with the data set's image size and channels. */
export function attentionUnetConfigOf(config: DdpmConfig): AttentionUnetConfig {
  return { imageSize: config.dataset.imageSize, imageChannels: config.dataset.channels, ...config.model };
}

/** The linear noise schedule a config describes (beta from betaStart at t = 0 to betaEnd at t = T). */
export function scheduleConfigOf(config: DdpmConfig): ScheduleConfig {
  const { T, betaStart, betaEnd } = config.training;
  return { kind: "linear", T, betaStart, betaEnd };
}
