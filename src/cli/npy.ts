/**
 * `npm run npy -- info FILE [FILE ...]` prints each .npy file's shape and dtype as
 * `shape (N, K) dtype D`, then, for a 2-D one-hot labels file, one `class i: count` line per column.
 */
import { formatShape, readNpy, type NpyArray } from "../lib/data/npy";

const USAGE = "usage: npm run npy -- info FILE [FILE ...]";

/** Per-column counts of a 2-D array whose rows are all one-hot, else null. */
export function oneHotCounts(array: NpyArray): number[] | null {
  if (array.shape.length !== 2 || array.shape[0] === 0) return null;
  const [rows, columns] = array.shape;
  const counts = new Array<number>(columns).fill(0);
  for (let i = 0; i < rows; i++) {
    let hot = -1;
    for (let j = 0; j < columns; j++) {
      const v = array.data[i * columns + j];
      if (v === 1 && hot === -1) hot = j;
      else if (v !== 0) return null;
    }
    if (hot === -1) return null;
    counts[hot]++;
  }
  return counts;
}

/** The lines `info` prints for one array. */
export function infoLines(array: NpyArray): string[] {
  const lines = [`shape ${formatShape(array.shape)} dtype ${array.dtype}`];
  const counts = oneHotCounts(array);
  if (counts !== null) counts.forEach((n, k) => lines.push(`class ${k}: ${n}`));
  return lines;
}

function main(argv: string[]): void {
  const [command, ...files] = argv;
  if (command !== "info" || files.length === 0) throw new Error(USAGE);
  for (const file of files) {
    if (files.length > 1) console.log(`${file}:`);
    for (const line of infoLines(readNpy(file))) console.log(line);
  }
}

if (typeof require !== "undefined" && require.main === module) {
  try {
    main(process.argv.slice(2));
  } catch (error) {
    console.error((error as Error).message);
    process.exitCode = 1;
  }
}
