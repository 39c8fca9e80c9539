/** Data: .npy I/O, the sprite data set and its batches, the procedural sprite generator, and the 28x28 sets (MNIST, textures). */
export { formatNpy, formatShape, parseNpy, parseNpyHeader, readNpy, readNpyHeader, shapeSize, writeNpy, type NpyArray, type NpyData, type NpyDtype, type NpyHeader } from "./npy";
export {
  SPRITE_CHANNELS,
  SPRITE_CLASSES,
  SPRITE_HEIGHT,
  SPRITE_PIXELS,
  SPRITE_WIDTH,
  countClasses,
  classCountOf,
  fingerprint,
  imageDatasetFromArrays,
  imageShapeOf,
  loadImageDataset,
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
export { SPRITE_CAPTIONS_FILE, SPRITE_CAPTIONS_FORMAT, encodeSpriteCaptions, loadSpriteCaptions, type BaseCaptions, type SpriteCaptions } from "./spriteCaptions";
export { captionVocabulary, captionWords, possibleCaptionWords, spriteCaptions, SPRITE_KINDS } from "./sprites/captions";
export { COLOUR_NAMES, COLOUR_REFERENCES, colourName } from "./sprites/colourNames";
export { SPRITE_PARTS, type Direction, type Facing, type SpriteAttributes, type SpriteFamily, type SpritePart } from "./sprites/traits";
export { HELD_OUT_FORMAT, HELD_OUT_KINDS, heldOutRecord, heldOutSprites, type HeldOutKind, type HeldOutRecord, type HeldOutSprites } from "./sprites/heldOut";
export { SPRITE_BYTES, SPRITE_GENERATOR_VERSION, generateSpriteSet, type SpriteSet, type SpriteSetOptions } from "./sprites/generate";
export { COURSE_BASE_COUNT, COURSE_CLASS_PERMILLE, COURSE_VARIANTS_PER_BASE, SPRITE_CLASS_NAMES, balancedClassCounts } from "./sprites/classes";
export {
  IMAGE_SET_MANIFEST_FILE,
  IMAGE_SET_PARTS,
  encodeImageSet,
  ensureImageSet,
  imageSetFileNames,
  loadImageSet,
  readImageSetManifest,
  writeImageSet,
  type ImageSetManifest,
  type ImageSetOptions,
  type ImageSetPart,
  type ImageSetPartName,
  type ImageSetSpec,
} from "./imageSetFiles";
export { checkIdxPair, parseIdx, readIdx, type IdxArray } from "./mnist/idx";
export { DEFAULT_MNIST_DIR, MNIST_CLASS_NAMES, MNIST_SET, MNIST_SIZE, ensureMnist, loadMnist, mnistIdxFolder, readMnistPart } from "./mnist/mnistSet";
export { TEXTURE_CLASS_NAMES, TEXTURE_GENERATOR_VERSION, TEXTURE_SIZE, generateTextureSet, renderTexture, type TextureSet, type TextureSetOptions } from "./textures/generate";
export { DEFAULT_TEXTURE_DIR, TEXTURE_SET, ensureTextures, loadTextures } from "./textures/textureSet";
export { IMAGE_SETS, loadNamedImageSet, type ImageSetName } from "./namedImageSets";
