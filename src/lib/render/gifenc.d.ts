// Types for the parts of gifenc 1.0.3 (mattdesl, plain JavaScript, no bundled types) used here.
declare module "gifenc" {
  /** [r, g, b] bytes (or [r, g, b, a] with an alpha format). */
  export type GifPalette = number[][];
  export type GifColorFormat = "rgb565" | "rgb444" | "rgba4444";

  /** Reduces RGBA pixels to at most `maxColors` colours (PnnQuant). */
  export function quantize(
    rgba: Uint8Array | Uint8ClampedArray,
    maxColors: number,
    options?: { format?: GifColorFormat; oneBitAlpha?: boolean | number; clearAlpha?: boolean },
  ): GifPalette;

  /** Index of the nearest palette colour for each pixel (cached per rgb565 bin). */
  export function applyPalette(rgba: Uint8Array | Uint8ClampedArray, palette: GifPalette, format?: GifColorFormat): Uint8Array;

  export interface GifFrameOptions {
    palette?: GifPalette;
    /** Milliseconds; stored as centiseconds, rounded. */
    delay?: number;
    /** -1 play once, 0 loop forever, n > 0 loop n extra times. Read from the first frame. */
    repeat?: number;
    transparent?: boolean;
    transparentIndex?: number;
    dispose?: number;
    first?: boolean;
    colorDepth?: number;
  }

  export interface GifStream {
    writeFrame(index: Uint8Array, width: number, height: number, options?: GifFrameOptions): void;
    finish(): void;
    bytes(): Uint8Array;
    bytesView(): Uint8Array;
  }

  export function GIFEncoder(options?: { auto?: boolean; initialCapacity?: number }): GifStream;
}
