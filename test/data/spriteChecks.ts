/**
 * Checks of one 16x16 RGB sprite computed from its bytes alone (no generator internals):
 * the background is what a 4-connected flood fill reaches from the frame's edge through pixels
 * within 10 per channel of the edge's light median colour; the subject is everything else.
 */
const N = 16;

export interface SpriteAnalysis {
  /** Every subject pixel that touches the background is dark (luma < 100). */
  outlined: boolean;
  /** How many subject pixels touch the background (the outline's length). */
  outlinePixels: number;
  /** Distinct colours of the subject inside its outline ring. */
  innerColours: number;
  /** Width and height of the subject's bounding box. */
  width: number;
  height: number;
  /** Subject pixels only (background marked -1), as a string key to compare sprites ("" unless withKey). */
  subjectKey: string;
}

/** Rec. 601 luma x 1000 of pixel p. */
function luma1000(bytes: Uint8Array, offset: number, p: number): number {
  const o = offset + 3 * p;
  return 299 * bytes[o] + 587 * bytes[o + 1] + 114 * bytes[o + 2];
}

/** The frame-edge pixel indices, each once. */
const EDGE: number[] = [];
for (let p = 0; p < N * N; p++) {
  const x = p % N;
  const y = (p - x) / N;
  if (x === 0 || y === 0 || x === N - 1 || y === N - 1) EDGE.push(p);
}

/** The 4-neighbours of pixel p inside the frame. */
const NEIGHBOURS: number[][] = Array.from({ length: N * N }, (_, p) => {
  const x = p % N;
  const y = (p - x) / N;
  return [[x - 1, y], [x + 1, y], [x, y - 1], [x, y + 1]].filter(([nx, ny]) => nx >= 0 && ny >= 0 && nx < N && ny < N).map(([nx, ny]) => ny * N + nx);
});

/** Per pixel (row-major), 1 where the flood fill of the file comment reaches: the background. */
export function backgroundMask(bytes: Uint8Array, offset = 0): Uint8Array {
  // The reference background colour: the median of the light (luma > 180) frame-edge pixels,
  // since the sprite's dark outline may cover much of the edge.
  const light = EDGE.filter((p) => luma1000(bytes, offset, p) > 180_000);
  if (light.length === 0) throw new Error("backgroundMask: no light background pixel on the frame's edge");
  const median = [0, 1, 2].map((c) => light.map((p) => bytes[offset + 3 * p + c]).sort((a, b) => a - b)[light.length >> 1]);
  const nearBackground = (p: number): boolean => {
    const o = offset + 3 * p;
    return Math.abs(bytes[o] - median[0]) <= 10 && Math.abs(bytes[o + 1] - median[1]) <= 10 && Math.abs(bytes[o + 2] - median[2]) <= 10;
  };
  const background = new Uint8Array(N * N);
  const stack = EDGE.filter(nearBackground);
  while (stack.length > 0) {
    const p = stack.pop()!;
    if (background[p]) continue;
    background[p] = 1;
    for (const q of NEIGHBOURS[p]) if (!background[q] && nearBackground(q)) stack.push(q);
  }
  return background;
}

/** Whether subject pixel p touches the background (the outline ring). */
export const touchesBackground = (background: Uint8Array, p: number): boolean => NEIGHBOURS[p].some((q) => background[q] === 1);

export function analyseSprite(bytes: Uint8Array, offset = 0, withKey = false): SpriteAnalysis {
  const background = backgroundMask(bytes, offset);
  let outlined = true;
  let outlinePixels = 0;
  let minX = N, minY = N, maxX = -1, maxY = -1;
  const colours = new Set<number>();
  const key: number[] = [];
  for (let p = 0; p < N * N; p++) {
    if (background[p]) {
      if (withKey) key.push(-1);
      continue;
    }
    const o = offset + 3 * p;
    const rgb = (bytes[o] << 16) | (bytes[o + 1] << 8) | bytes[o + 2];
    if (withKey) key.push(rgb);
    const x = p % N;
    const y = (p - x) / N;
    minX = Math.min(minX, x); maxX = Math.max(maxX, x); minY = Math.min(minY, y); maxY = Math.max(maxY, y);
    if (touchesBackground(background, p)) {
      outlinePixels++;
      if (luma1000(bytes, offset, p) >= 100_000) outlined = false;
    } else colours.add(rgb);
  }
  return { outlined, outlinePixels, innerColours: colours.size, width: maxX - minX + 1, height: maxY - minY + 1, subjectKey: key.join(",") };
}
