/**
 * Reads a sprite from an image file (PNG, or any format the canvas decodes) into model space:
 * [1, H, W, 3] float32 in [-1, 1], transparent pixels composited over white (the sprites' own
 * background). The image must already be the model's size: a resize would invent pixels, so a
 * wrong size is an error that says what to do.
 */
import { readFileSync } from "node:fs";
import * as tf from "@tensorflow/tfjs-core";
import { createCanvas, loadImage } from "@napi-rs/canvas";

/** The sprite in `file` (a path or the file's bytes) as [1, size, size, 3] in [-1, 1]; the caller owns it. */
export async function readSpriteImage(file: string | Buffer, size = 16): Promise<tf.Tensor4D> {
  const name = typeof file === "string" ? file : "the image";
  let image: Awaited<ReturnType<typeof loadImage>>;
  try {
    image = await loadImage(typeof file === "string" ? readFileSync(file) : file);
  } catch (error) {
    throw new Error(`${name}: cannot be read as an image (${(error as Error).message}); give a PNG file of ${size}x${size} pixels.`);
  }
  if (image.width !== size || image.height !== size) {
    throw new Error(`${name} is ${image.width}x${image.height} pixels, but the model draws ${size}x${size} sprites; resize it to ${size}x${size} (nearest neighbour keeps pixel art sharp) and try again.`);
  }
  const canvas = createCanvas(size, size);
  const context = canvas.getContext("2d");
  context.fillStyle = "#ffffff";
  context.fillRect(0, 0, size, size);
  context.drawImage(image, 0, 0);
  const rgba = context.getImageData(0, 0, size, size).data;
  const rgb = new Float32Array(size * size * 3);
  for (let i = 0; i < size * size; i++) for (let c = 0; c < 3; c++) rgb[i * 3 + c] = rgba[i * 4 + c] / 127.5 - 1;
  return tf.tensor4d(rgb, [1, size, size, 3]);
}
