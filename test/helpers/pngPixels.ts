/** A PNG's RGBA bytes (decoded with @napi-rs/canvas), and the largest byte difference between two PNGs of one size. */
import { readFileSync } from "node:fs";
import { createCanvas, loadImage } from "@napi-rs/canvas";

export async function pngPixels(file: string): Promise<{ width: number; height: number; data: Uint8ClampedArray }> {
  const image = await loadImage(readFileSync(file));
  const canvas = createCanvas(image.width, image.height);
  const context = canvas.getContext("2d");
  context.drawImage(image, 0, 0);
  return { width: image.width, height: image.height, data: context.getImageData(0, 0, image.width, image.height).data };
}

/** The largest difference of any channel of any pixel (0..255); throws when the sizes differ. */
export async function largestPixelDifference(a: string, b: string): Promise<number> {
  const [x, y] = await Promise.all([pngPixels(a), pngPixels(b)]);
  if (x.width !== y.width || x.height !== y.height) throw new Error(`${a} is ${x.width}x${x.height} but ${b} is ${y.width}x${y.height}.`);
  let largest = 0;
  for (let i = 0; i < x.data.length; i++) largest = Math.max(largest, Math.abs(x.data[i] - y.data[i]));
  return largest;
}
