/** Test helpers for rendering: decode encoded images with @napi-rs/canvas, read pixels, walk GIF blocks. */
import { createCanvas, loadImage } from "@napi-rs/canvas";

export interface DecodedImage {
  width: number;
  height: number;
  rgba: Uint8ClampedArray;
}

/** Decodes a PNG (or a GIF's first frame) to straight RGBA with Skia's decoder. */
export async function decodeImage(bytes: Buffer): Promise<DecodedImage> {
  const image = await loadImage(bytes);
  const canvas = createCanvas(image.width, image.height);
  const ctx = canvas.getContext("2d");
  ctx.drawImage(image, 0, 0);
  return { width: image.width, height: image.height, rgba: ctx.getImageData(0, 0, image.width, image.height).data };
}

/** [r, g, b, a] at (x, y). */
export function pixelAt(image: DecodedImage, x: number, y: number): number[] {
  if (x < 0 || y < 0 || x >= image.width || y >= image.height) {
    throw new Error(`pixel (${x}, ${y}) outside ${image.width}x${image.height}`);
  }
  const i = (y * image.width + x) * 4;
  return Array.from(image.rgba.subarray(i, i + 4));
}

/** Every pixel of the rectangle [x0, x0 + w) x [y0, y0 + h) as "r,g,b,a" strings, deduplicated. */
export function coloursIn(image: DecodedImage, x0: number, y0: number, w: number, h: number): Set<string> {
  const seen = new Set<string>();
  for (let y = y0; y < y0 + h; y++) for (let x = x0; x < x0 + w; x++) seen.add(pixelAt(image, x, y).join(","));
  return seen;
}

export interface GifFrameInfo {
  left: number;
  top: number;
  width: number;
  height: number;
  /** Centiseconds from the frame's Graphic Control Extension. */
  delayCs: number;
  /** The frame's colour table (local, else the global one), as [r, g, b]. */
  palette: number[][];
}

export interface GifInfo {
  width: number;
  height: number;
  /** NETSCAPE2.0 loop count (0 = forever), or null when absent (play once). */
  loopCount: number | null;
  frames: GifFrameInfo[];
}

/**
 * Walks a GIF89a block by block (GIF89a spec sections 17-27): header, logical screen descriptor,
 * global colour table, then extensions (0x21), image descriptors (0x2C) and the trailer (0x3B).
 * Skips the LZW data by its sub-block lengths, so a 0x2C byte inside pixel data is not miscounted.
 */
export function parseGif(bytes: Uint8Array): GifInfo {
  const u16 = (at: number) => bytes[at] | (bytes[at + 1] << 8);
  const signature = String.fromCharCode(...bytes.subarray(0, 6));
  if (signature !== "GIF89a") throw new Error(`not a GIF89a: ${JSON.stringify(signature)}`);
  const readTable = (at: number, packed: number): [number[][], number] => {
    if ((packed & 0x80) === 0) return [[], at];
    const size = 1 << ((packed & 7) + 1);
    const table: number[][] = [];
    for (let i = 0; i < size; i++) table.push([bytes[at + 3 * i], bytes[at + 3 * i + 1], bytes[at + 3 * i + 2]]);
    return [table, at + 3 * size];
  };
  const skipSubBlocks = (at: number) => {
    while (bytes[at] !== 0) at += bytes[at] + 1;
    return at + 1;
  };
  const info: GifInfo = { width: u16(6), height: u16(8), loopCount: null, frames: [] };
  let [globalTable, at] = readTable(13, bytes[10]);
  let delayCs = 0;
  for (;;) {
    const introducer = bytes[at];
    if (introducer === 0x3b) return info;
    if (introducer === 0x21) {
      const label = bytes[at + 1];
      if (label === 0xf9) delayCs = u16(at + 4);
      if (label === 0xff && String.fromCharCode(...bytes.subarray(at + 3, at + 14)) === "NETSCAPE2.0") {
        info.loopCount = u16(at + 16);
      }
      at = skipSubBlocks(at + 2);
    } else if (introducer === 0x2c) {
      const [localTable, afterTable] = readTable(at + 10, bytes[at + 9]);
      info.frames.push({
        left: u16(at + 1),
        top: u16(at + 3),
        width: u16(at + 5),
        height: u16(at + 7),
        delayCs,
        palette: localTable.length > 0 ? localTable : globalTable,
      });
      at = skipSubBlocks(afterTable + 1); // + 1: the LZW minimum code size byte
    } else {
      throw new Error(`unexpected GIF block 0x${introducer.toString(16)} at byte ${at}`);
    }
  }
}
