/** Data: .npy I/O, the sprite data set and its batches, and the procedural sprite generator. */
export { formatNpy, formatShape, parseNpy, parseNpyHeader, readNpy, readNpyHeader, shapeSize, writeNpy, type NpyArray, type NpyData, type NpyDtype, type NpyHeader } from "./npy";
export {
  SPRITE_CHANNELS,
  SPRITE_CLASSES,
  SPRITE_HEIGHT,
  SPRITE_PIXELS,
  SPRITE_WIDTH,
  countClasses,
  fingerprint,
  loadImagesOnlyDataset,
  loadSpriteDataset,
  oneHotContexts,
  sampleTensors,
  spriteDatasetFromArrays,
  subsetDataset,
  type SpriteDataset,
} from "./dataset";
export { PROJECT_ROOT, projectPath } from "./projectRoot";
export { batchesPerEpoch, epochOrder, spriteBatches, splitIndices, type BatchOptions, type SpriteBatch, type SplitOptions } from "./batches";
export {
  COURSE_IMAGES_FILE,
  COURSE_LABELS_FILE,
  DEFAULT_SPRITE_DIR,
  SPRITE_IMAGES_FILE,
  SPRITE_LABELS_FILE,
  SPRITE_MANIFEST_FILE,
  contactSheetIndices,
  encodeSpriteSet,
  ensureSpriteSet,
  loadProjectSprites,
  readSpriteManifest,
  spriteSetArrays,
  writeSpriteSet,
  type SpriteFileRecord,
  type SpriteManifest,
} from "./spriteFiles";
export { SPRITE_BYTES, SPRITE_GENERATOR_VERSION, generateSpriteSet, type SpriteSet, type SpriteSetOptions } from "./sprites/generate";
export { COURSE_BASE_COUNT, COURSE_CLASS_PERMILLE, COURSE_VARIANTS_PER_BASE, SPRITE_CLASS_NAMES, balancedClassCounts } from "./sprites/classes";
