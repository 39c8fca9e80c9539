/**
 * Drawing primitives on a 16x16 grid of colour regions. A sprite is drawn as regions (each a base
 * colour plus a shading rule), not as RGB: render.ts later turns regions into shaded pixels, adds
 * the dark outline and the background, and applies per-variant jitter.
 *
 * Coordinates: x to the right, y down, both 0..15. Cell value 0 means "empty" (background).
 */
import type { Rgb } from "./palette";
import type { DrawnTraits } from "./traits";

export const SPRITE_SIZE = 16;

/**
 * How a region's pixels get their tones (light from the top-left):
 * - "auto": bottom/right edges of the region dark, top/left edges light, the rest mid-tone.
 * - "round": like auto, plus a darker band on the lower-right of the region's bounding box
 *   (for fruit, orbs, bodies).
 * - "flat": one tone (eyes, mouths, small marks, explicit highlights).
 */
export type Shading = "auto" | "round" | "flat";

export interface Region {
  readonly colour: Rgb;
  readonly shading: Shading;
}

/** A region map under construction; see the file comment. */
export class SpriteCanvas {
  readonly cells = new Uint8Array(SPRITE_SIZE * SPRITE_SIZE);
  readonly regions: Region[] = [{ colour: 0, shading: "flat" }];
  /** What the drawing shows, for captions; drawing never reads it (traits.ts). */
  traits: DrawnTraits | null = null;

  /** Records what the drawing shows (its kind, colour regions, parts); draws nothing. */
  describe(traits: DrawnTraits): void {
    this.traits = traits;
  }

  /** Adds a colour region and returns its id (1..255). */
  region(colour: Rgb, shading: Shading = "auto"): number {
    if (this.regions.length >= 256) throw new Error("SpriteCanvas: more than 255 regions");
    this.regions.push({ colour, shading });
    return this.regions.length - 1;
  }

  get(x: number, y: number): number {
    if (x < 0 || y < 0 || x >= SPRITE_SIZE || y >= SPRITE_SIZE) return 0;
    return this.cells[y * SPRITE_SIZE + x];
  }

  /** Sets one cell; coordinates outside the grid are ignored (shapes may be clipped). */
  set(x: number, y: number, id: number): void {
    if (x < 0 || y < 0 || x >= SPRITE_SIZE || y >= SPRITE_SIZE) return;
    this.cells[y * SPRITE_SIZE + x] = id;
  }

  /** Sets a cell only where something is already drawn (details on top of a shape). */
  paint(x: number, y: number, id: number): void {
    if (this.get(x, y) !== 0) this.set(x, y, id);
  }

  rect(x: number, y: number, w: number, h: number, id: number): void {
    for (let j = y; j < y + h; j++) for (let i = x; i < x + w; i++) this.set(i, j, id);
  }

  /**
   * Fills the ellipse centred on (cx2/2, cy2/2) with radii rx2/2, ry2/2 (doubled coordinates,
   * so centres and radii may fall on half pixels). A pixel (x, y) is inside when its centre
   * (x + 1/2, y + 1/2) satisfies ((2x+1-cx2)/rx2)^2 + ((2y+1-cy2)/ry2)^2 <= 1, tested in integers.
   */
  ellipse(cx2: number, cy2: number, rx2: number, ry2: number, id: number): void {
    const limit = rx2 * rx2 * ry2 * ry2;
    for (let y = 0; y < SPRITE_SIZE; y++) {
      for (let x = 0; x < SPRITE_SIZE; x++) {
        const dx = 2 * x + 1 - cx2;
        const dy = 2 * y + 1 - cy2;
        if (dx * dx * ry2 * ry2 + dy * dy * rx2 * rx2 <= limit) this.set(x, y, id);
      }
    }
  }

  /** A 1-pixel line from (x0, y0) to (x1, y1), both ends included (Bresenham). */
  line(x0: number, y0: number, x1: number, y1: number, id: number): void {
    const dx = Math.abs(x1 - x0);
    const dy = -Math.abs(y1 - y0);
    const sx = x0 < x1 ? 1 : -1;
    const sy = y0 < y1 ? 1 : -1;
    let err = dx + dy;
    for (;;) {
      this.set(x0, y0, id);
      if (x0 === x1 && y0 === y1) return;
      const e2 = 2 * err;
      if (e2 >= dy) {
        err += dy;
        x0 += sx;
      }
      if (e2 <= dx) {
        err += dx;
        y0 += sy;
      }
    }
  }

  /**
   * Draws a small pixel map: each character of `rows` is looked up in `legend` (a region id);
   * characters not in the legend (such as '.') leave the cell unchanged.
   */
  stamp(x: number, y: number, rows: readonly string[], legend: Readonly<Record<string, number>>): void {
    rows.forEach((row, j) => {
      for (let i = 0; i < row.length; i++) {
        const id = legend[row[i]];
        if (id !== undefined) this.set(x + i, y + j, id);
      }
    });
  }

  /** Copies the left half (x 0..7) onto the right half mirrored, for front-facing symmetry. */
  mirrorLeftToRight(): void {
    for (let y = 0; y < SPRITE_SIZE; y++) {
      for (let x = 0; x < SPRITE_SIZE / 2; x++) this.set(SPRITE_SIZE - 1 - x, y, this.get(x, y));
    }
  }

  /** Mirrors the whole grid left-right (a profile facing the other way, a blade the other diagonal). */
  flipHorizontal(): void {
    for (let y = 0; y < SPRITE_SIZE; y++) {
      for (let x = 0; x < SPRITE_SIZE / 2; x++) {
        const held = this.get(x, y);
        this.set(x, y, this.get(SPRITE_SIZE - 1 - x, y));
        this.set(SPRITE_SIZE - 1 - x, y, held);
      }
    }
  }

  /** Replaces every cell of region `from` by region `to`. */
  recolour(from: number, to: number): void {
    for (let i = 0; i < this.cells.length; i++) if (this.cells[i] === from) this.cells[i] = to;
  }

  /** The drawn extent: [minX, minY, maxX, maxY], or null when nothing is drawn. */
  bounds(): [number, number, number, number] | null {
    let minX = SPRITE_SIZE;
    let minY = SPRITE_SIZE;
    let maxX = -1;
    let maxY = -1;
    for (let y = 0; y < SPRITE_SIZE; y++) {
      for (let x = 0; x < SPRITE_SIZE; x++) {
        if (this.cells[y * SPRITE_SIZE + x] === 0) continue;
        minX = Math.min(minX, x);
        maxX = Math.max(maxX, x);
        minY = Math.min(minY, y);
        maxY = Math.max(maxY, y);
      }
    }
    return maxX < 0 ? null : [minX, minY, maxX, maxY];
  }
}
