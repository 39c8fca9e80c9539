/** Rendering: display normalisations, PNG grids and GIF animations of NHWC image tensors. */
export { clipToUnit, normalizeToRgbBytes, NORMALIZATIONS, type ImageBatchShape, type Normalization } from "./normalize";
export { renderGridPng, renderGridRgba, type GridOptions, type RgbaImage } from "./grid";
export { renderGif, type GifOptions } from "./gif";
export { captionBandHeight } from "./layout";
export { readSpriteImage } from "./readPng";
