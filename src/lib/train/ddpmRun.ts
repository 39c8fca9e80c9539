/**
 * A DDPM config file (../config/ddpmConfig.ts) made into a training run on the library's one
 * Trainer: the named set's training images, the attention UNet of its model section, its linear
 * schedule and its recipe. The run is unconditional (no context), as Ho et al. 2020's.
 */
import { existsSync } from "node:fs";
import { join, relative } from "node:path";
import { ConfigError } from "../config/configError";
import { type DdpmConfig, attentionUnetConfigOf, scheduleConfigOf } from "../config/ddpmConfig";
import { type SpriteDataset, imageShapeOf, loadImageDataset } from "../data/dataset";
import { imageSetFileNames } from "../data/imageSetFiles";
import { IMAGE_SETS } from "../data/namedImageSets";
import { PROJECT_ROOT, projectPath } from "../data/projectRoot";
import { scheduleFromConfig } from "../diffusion/schedule";
import { AttentionUnet } from "../model/attentionUnet/attentionUnet";
import type { TrainConfig } from "./config";
import { Trainer, type TrainingData } from "./trainer";

/**
 * The training part of the set the config names, from dataset.path (relative to the project root;
 * default data/<name>), with `source` naming the files (relative to the project root). Throws,
 * saying which `npm run make-data` makes them, when its .npy files are missing, and a ConfigError
 * naming dataset.imageSize or dataset.channels when the images are not the size the config says.
 * @param file  the config file, for messages.
 */
export function loadDdpmDataset(config: DdpmConfig, file = "config"): { dataset: SpriteDataset; source: string } {
  const { name, path, imageSize, channels } = config.dataset;
  const { spec } = IMAGE_SETS[name];
  const folder = projectPath(path ?? join("data", name));
  const names = imageSetFileNames(spec, "train");
  const files = { images: join(folder, names.images), labels: join(folder, names.labels) };
  const missing = [files.images, files.labels].filter((f) => !existsSync(f));
  if (missing.length > 0) {
    throw new Error(`${file}: the ${name} set's training files are missing (${missing.join(", ")}); make them with \`${spec.command}\`${path === undefined ? "" : ` (into ${path}: add --out ${path})`}.`);
  }
  const dataset = loadImageDataset(files.images, files.labels);
  const [height, width, found] = imageShapeOf(dataset);
  if (height !== imageSize || width !== imageSize) {
    throw new ConfigError(file, "dataset.imageSize", `is ${imageSize}, but ${files.images} holds ${height}x${width} images; set it to ${height}.`);
  }
  if (found !== channels) throw new ConfigError(file, "dataset.channels", `is ${channels}, but ${files.images} holds images of ${found} channels; set it to ${found}.`);
  const shown = (f: string) => relative(PROJECT_ROOT, f);
  return { dataset, source: `${shown(files.images)} + ${shown(files.labels)}` };
}

/**
 * The Trainer's settings from the config's training section: its batch, epochs, seed and EMA (if
 * any), no context, and Adam at its learning rate, decayed linearly per epoch as every run of the
 * Trainer (the reference keeps it constant).
 */
export function ddpmTrainConfig(config: DdpmConfig): Partial<TrainConfig> {
  const { batchSize, epochs, learningRate, seed, emaDecay } = config.training;
  return { batchSize, epochs, learningRate, seed, emaDecay: emaDecay ?? null, useContext: false };
}

/**
 * A Trainer of a fresh attention UNet (weights from training.seed) on `data` with the config's
 * schedule and recipe; `extra` adds run options the file does not hold (sampleEvery). The caller
 * owns the trainer and its model: dispose both.
 */
export function ddpmTrainer(config: DdpmConfig, data: TrainingData, extra: Partial<TrainConfig> = {}): Trainer<AttentionUnet> {
  const schedule = scheduleFromConfig(scheduleConfigOf(config));
  const model = new AttentionUnet(attentionUnetConfigOf(config), config.training.seed);
  try {
    return new Trainer(model, data, { ...extra, ...ddpmTrainConfig(config) }, schedule);
  } catch (error) {
    model.dispose();
    throw error;
  }
}
