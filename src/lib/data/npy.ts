/**
 * NumPy .npy files: read and write little-endian uint8, float32 and float64 arrays in C order,
 * format versions 1.0 and 2.0 (3.0, which only allows a UTF-8 header, is read too).
 *
 * The format (numpy.lib.format, NEP 1): the magic "\x93NUMPY", a major and a minor version byte,
 * the header length (uint16 LE in 1.0, uint32 LE in 2.0/3.0), then the header: a Python dict
 * literal such as {'descr': '<f8', 'fortran_order': False, 'shape': (89400, 5), } padded with
 * spaces and ended by '\n' so the data starts on a multiple of 64 bytes. The data follows,
 * prod(shape) items in C (row-major) order.
 *
 * No maintained npm package both reads and writes .npy in Node (npyjs only reads), hence this.
 */
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { endianness } from "node:os";

export type NpyDtype = "uint8" | "float32" | "float64";

export type NpyData = Uint8Array | Float32Array | Float64Array;

/** An array read from or written to a .npy file; `data` is flat in C order. */
export interface NpyArray {
  dtype: NpyDtype;
  shape: number[];
  data: NpyData;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // "\x93NUMPY"
const DESCR: Record<NpyDtype, string> = { uint8: "|u1", float32: "<f4", float64: "<f8" };
const DTYPE_OF_DESCR: Record<string, NpyDtype> = { "|u1": "uint8", "<u1": "uint8", "<f4": "float32", "<f8": "float64" };
const ITEM_BYTES: Record<NpyDtype, number> = { uint8: 1, float32: 4, float64: 8 };
const HOST_IS_LITTLE_ENDIAN = endianness() === "LE";

/** Product of a shape (1 for a scalar's empty shape). */
export function shapeSize(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Formats a shape as Python prints a tuple: (), (5,), (89400, 16, 16, 3). */
export function formatShape(shape: readonly number[]): string {
  return shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
}

/** The header fields of a .npy file and where its data starts. */
export interface NpyHeader {
  dtype: NpyDtype;
  shape: number[];
  version: string;
  dataOffset: number;
}

/** Parses the magic, version and header dict; `source` names the file in error messages. */
export function parseNpyHeader(bytes: Uint8Array, source: string): NpyHeader {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) {
    const seen = Array.from(bytes.subarray(0, 6), (b) => b.toString(16).padStart(2, "0")).join(" ");
    throw new Error(`${source}: not a .npy file: bad magic (expected 93 4e 55 4d 50 59 = "\\x93NUMPY", got ${seen || "an empty file"}).`);
  }
  const major = bytes[6];
  const minor = bytes[7];
  if (major < 1 || major > 3) throw new Error(`${source}: unsupported .npy format version ${major}.${minor} (this reader knows 1.0, 2.0 and 3.0).`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lengthBytes = major === 1 ? 2 : 4;
  if (bytes.length < 8 + lengthBytes) throw new Error(`${source}: truncated: the file ends inside the .npy header length field.`);
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const dataOffset = 8 + lengthBytes + headerLength;
  if (bytes.length < dataOffset) {
    throw new Error(`${source}: truncated: the header says it is ${headerLength} bytes long but the file ends after ${bytes.length - 8 - lengthBytes}.`);
  }
  const header = new TextDecoder(major === 3 ? "utf-8" : "latin1").decode(bytes.subarray(8 + lengthBytes, dataOffset));
  return { ...parseHeaderDict(header.trim(), source), version: `${major}.${minor}`, dataOffset };
}

/** Reads the three keys of the header dict, rejecting what this module cannot load. */
function parseHeaderDict(header: string, source: string): { dtype: NpyDtype; shape: number[] } {
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header);
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header);
  const shape = /'shape'\s*:\s*\(([^)]*)\)/.exec(header);
  if (!header.startsWith("{") || !header.endsWith("}") || !descr || !fortran || !shape) {
    throw new Error(`${source}: malformed .npy header (expected a dict with 'descr', 'fortran_order' and 'shape'), got: ${header.slice(0, 200)}`);
  }
  const dtype = DTYPE_OF_DESCR[descr[1]];
  if (dtype === undefined) {
    throw new Error(`${source}: dtype '${descr[1]}' is not supported (supported: '|u1' uint8, '<f4' float32, '<f8' float64, little-endian); convert it in NumPy, e.g. np.save(path, arr.astype('<f4')).`);
  }
  if (fortran[1] === "True") {
    throw new Error(`${source}: fortran_order is True (column-major data), which is not supported; save a C-ordered copy: np.save(path, np.ascontiguousarray(arr)).`);
  }
  const parts = shape[1].split(",").map((p) => p.trim()).filter((p) => p.length > 0);
  if (!parts.every((p) => /^\d+L?$/.test(p))) throw new Error(`${source}: malformed shape '(${shape[1]})' in the .npy header.`);
  return { dtype, shape: parts.map((p) => Number.parseInt(p, 10)) };
}

/** Parses a whole .npy file held in memory. The returned data is a copy (aligned, owned). */
export function parseNpy(bytes: Uint8Array, source = "<npy bytes>"): NpyArray {
  const { dtype, shape, dataOffset } = parseNpyHeader(bytes, source);
  const count = shapeSize(shape);
  const itemBytes = ITEM_BYTES[dtype];
  const expected = count * itemBytes;
  const actual = bytes.length - dataOffset;
  if (actual < expected) {
    throw new Error(`${source}: truncated: shape ${formatShape(shape)} ${dtype} needs ${expected} data bytes but the file has ${actual} after its ${dataOffset}-byte header; re-copy or re-generate the file.`);
  }
  if (actual > expected) {
    throw new Error(`${source}: ${actual - expected} unexpected bytes after the data of shape ${formatShape(shape)} ${dtype}; the file is corrupt or not a single .npy array.`);
  }
  const raw = bytes.subarray(dataOffset, dataOffset + expected);
  return { dtype, shape, data: decodeData(raw, dtype, count) };
}

function decodeData(raw: Uint8Array, dtype: NpyDtype, count: number): NpyData {
  if (dtype === "uint8") return new Uint8Array(raw); // a copy (Buffer.slice would be a view)
  const out = dtype === "float32" ? new Float32Array(count) : new Float64Array(count);
  if (HOST_IS_LITTLE_ENDIAN) {
    new Uint8Array(out.buffer).set(raw);
    return out;
  }
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  for (let i = 0; i < count; i++) out[i] = dtype === "float32" ? view.getFloat32(4 * i, true) : view.getFloat64(8 * i, true);
  return out;
}

/** Reads a .npy file; errors name the file and the problem. */
export function readNpy(path: string): NpyArray {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    throw new Error(`${path}: cannot read the .npy file (${(error as Error).message}).`);
  }
  return parseNpy(bytes, path);
}

/** Reads only the header of a .npy file (shape, dtype, version). */
export function readNpyHeader(path: string): NpyHeader {
  return parseNpyHeader(readFileSync(path), path);
}

/**
 * Encodes an array as .npy bytes. Version 1.0 unless the header needs more than 65,535 bytes
 * (or `version: 2` is asked for). The header is padded so the data starts at a multiple of 64.
 */
export function formatNpy(array: NpyArray, options: { version?: 1 | 2 } = {}): Uint8Array {
  const { dtype, shape, data } = array;
  if (!(dtype in DESCR)) throw new Error(`formatNpy: dtype must be uint8, float32 or float64, got ${String(dtype)}.`);
  if (!shape.every((d) => Number.isInteger(d) && d >= 0)) throw new Error(`formatNpy: shape must be non-negative integers, got [${shape.join(", ")}].`);
  const expectedType = dtype === "uint8" ? Uint8Array : dtype === "float32" ? Float32Array : Float64Array;
  if (!(data instanceof expectedType)) throw new Error(`formatNpy: dtype ${dtype} needs a ${expectedType.name}, got ${data.constructor.name}.`);
  if (data.length !== shapeSize(shape)) throw new Error(`formatNpy: shape ${formatShape(shape)} holds ${shapeSize(shape)} items but data has ${data.length}.`);
  const dict = `{'descr': '${DESCR[dtype]}', 'fortran_order': False, 'shape': ${formatShape(shape)}, }`;
  let version = options.version ?? 1;
  if (version === 1 && dict.length + 1 + 10 > 0xffff) version = 2;
  const prefix = version === 1 ? 10 : 12;
  const padded = Math.ceil((prefix + dict.length + 1) / 64) * 64;
  const header = dict + " ".repeat(padded - prefix - dict.length - 1) + "\n";
  const out = new Uint8Array(padded + data.byteLength);
  out.set(MAGIC, 0);
  out[6] = version;
  out[7] = 0;
  const view = new DataView(out.buffer);
  if (version === 1) view.setUint16(8, header.length, true);
  else view.setUint32(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[prefix + i] = header.charCodeAt(i);
  if (HOST_IS_LITTLE_ENDIAN || dtype === "uint8") out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), padded);
  else for (let i = 0; i < data.length; i++) {
    if (dtype === "float32") view.setFloat32(padded + 4 * i, data[i], true);
    else view.setFloat64(padded + 8 * i, data[i], true);
  }
  return out;
}

/** Writes a .npy file atomically (to a temporary name, then renamed over `path`). */
export function writeNpy(path: string, array: NpyArray, options: { version?: 1 | 2 } = {}): void {
  const temporary = `${path}.tmp-${process.pid}`;
  writeFileSync(temporary, formatNpy(array, options));
  renameSync(temporary, path);
}
