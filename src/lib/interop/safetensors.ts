/**
 * The safetensors format (huggingface/safetensors): an 8-byte little-endian header length N,
 * N bytes of JSON `{ name: { dtype, shape, data_offsets: [begin, end] }, "__metadata__": {..} }`,
 * then the tensors' bytes, little-endian and row-major, each at [begin, end) of the data that
 * follows the header. Reading checks the format's rules (the header is a JSON object; every
 * tensor's byte length fits its dtype and shape; the tensors tile the data exactly, without holes
 * or overlaps) and names the file, the tensor and the rule broken.
 */
import { readFileSync } from "node:fs";
import { writeFileAtomic } from "../train/atomicFile";
import type { StateDict, TorchTensor } from "./pthFile";

/** The dtypes this project reads and writes, with their element sizes. */
const DTYPES: Record<string, { dtype: TorchTensor["dtype"]; bytes: number }> = {
  F32: { dtype: "float32", bytes: 4 },
  I64: { dtype: "int64", bytes: 8 },
};
const DTYPE_NAMES: Record<TorchTensor["dtype"], string> = { float32: "F32", int64: "I64" };

/** The format caps the header at 100 MB (the reference implementation's limit). */
const MAX_HEADER_BYTES = 100_000_000;

interface HeaderEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

/** A safetensors file's tensors and its free-form string metadata. */
export interface SafetensorsContents {
  tensors: StateDict;
  metadata: Record<string, string>;
}

function parseHeader(bytes: Uint8Array, file: string): { header: Record<string, unknown>; dataStart: number } {
  if (bytes.length < 8) throw new Error(`${file}: ${bytes.length} bytes, too short for a safetensors file (8-byte header length first).`);
  const length = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  if (length > MAX_HEADER_BYTES || 8 + length > bytes.length) {
    throw new Error(`${file}: the header claims ${length} bytes but the file has ${bytes.length - 8} after the length; the file is truncated or not safetensors.`);
  }
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, 8 + length)));
  } catch (error) {
    throw new Error(`${file}: the header is not valid UTF-8 JSON (${(error as Error).message}).`);
  }
  if (typeof header !== "object" || header === null || Array.isArray(header)) throw new Error(`${file}: the header is not a JSON object.`);
  return { header: header as Record<string, unknown>, dataStart: 8 + length };
}

function checkEntry(name: string, entry: unknown, file: string): HeaderEntry & { kind: (typeof DTYPES)[string] } {
  const e = entry as Partial<HeaderEntry>;
  const offsets = e?.data_offsets;
  const shapeOk = Array.isArray(e?.shape) && e!.shape.every((d) => Number.isInteger(d) && d >= 0);
  const offsetsOk = Array.isArray(offsets) && offsets.length === 2 && offsets.every((o) => Number.isInteger(o) && o >= 0) && offsets[0] <= offsets[1];
  if (typeof e?.dtype !== "string" || !shapeOk || !offsetsOk) {
    throw new Error(`${file}: tensor "${name}" has a malformed header entry ${JSON.stringify(entry)} (needs dtype, shape of integers >= 0, data_offsets [begin, end]).`);
  }
  const kind = DTYPES[e.dtype];
  if (!kind) throw new Error(`${file}: tensor "${name}" has dtype ${e.dtype}; this project reads F32 (and I64 counters): convert the model to float32 before saving.`);
  const count = e.shape!.reduce((n, d) => n * d, 1);
  if (offsets![1] - offsets![0] !== count * kind.bytes) {
    throw new Error(`${file}: tensor "${name}" (${e.dtype} [${e.shape}]) needs ${count * kind.bytes} bytes, its data_offsets [${offsets}] span ${offsets![1] - offsets![0]}.`);
  }
  return { dtype: e.dtype, shape: e.shape!, data_offsets: offsets as [number, number], kind };
}

/**
 * The tensors and metadata of the safetensors file `bytes` (named `file` in errors). Throws on a
 * broken rule (see the module comment) or a dtype other than F32 and I64.
 */
export function parseSafetensors(bytes: Uint8Array, file: string): SafetensorsContents {
  const { header, dataStart } = parseHeader(bytes, file);
  const dataLength = bytes.length - dataStart;
  const metadata = (header.__metadata__ ?? {}) as Record<string, string>;
  if (typeof metadata !== "object" || Object.values(metadata).some((v) => typeof v !== "string")) {
    throw new Error(`${file}: __metadata__ must map strings to strings.`);
  }
  const entries = Object.entries(header)
    .filter(([name]) => name !== "__metadata__")
    .map(([name, entry]) => ({ name, ...checkEntry(name, entry, file) }))
    .sort((a, b) => a.data_offsets[0] - b.data_offsets[0] || a.data_offsets[1] - b.data_offsets[1]);
  let expected = 0;
  for (const e of entries) {
    if (e.data_offsets[0] !== expected) {
      throw new Error(`${file}: tensor "${e.name}" starts at byte ${e.data_offsets[0]} of the data, but the tensors before it end at ${expected}: the offsets ${e.data_offsets[0] < expected ? "overlap" : "leave a hole"}, and the header lies about them.`);
    }
    expected = e.data_offsets[1];
  }
  if (expected !== dataLength) {
    throw new Error(`${file}: the header's tensors cover ${expected} bytes of data, the file holds ${dataLength}; the file is ${expected > dataLength ? "truncated" : "padded"} or its header lies about its offsets.`);
  }
  const tensors: StateDict = new Map();
  const ordered = Object.keys(header).filter((name) => name !== "__metadata__");
  const byName = new Map(entries.map((e) => [e.name, e]));
  for (const name of ordered) {
    const e = byName.get(name)!;
    const count = e.shape.reduce((n, d) => n * d, 1);
    const copy = bytes.slice(dataStart + e.data_offsets[0], dataStart + e.data_offsets[1]);
    const data = e.kind.dtype === "float32" ? new Float32Array(copy.buffer, 0, count) : Float64Array.from(new BigInt64Array(copy.buffer, 0, count), (v) => Number(v));
    tensors.set(name, { dtype: e.kind.dtype, shape: e.shape.slice(), data });
  }
  return { tensors, metadata: { ...metadata } };
}

/** The safetensors file at `path`; see parseSafetensors. */
export function readSafetensors(path: string): SafetensorsContents {
  return parseSafetensors(new Uint8Array(readFileSync(path)), path);
}

/**
 * The bytes of a safetensors file holding `tensors` (in their order) and string `metadata`;
 * the header is padded with spaces to a multiple of 8 bytes, as the reference writer does.
 */
export function encodeSafetensors(tensors: StateDict, metadata: Record<string, string> = {}): Uint8Array {
  const header: Record<string, unknown> = Object.keys(metadata).length > 0 ? { __metadata__: metadata } : {};
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of tensors) {
    const bytes = t.dtype === "float32" ? new Uint8Array(Float32Array.from(t.data).buffer) : new Uint8Array(BigInt64Array.from(t.data, (v) => BigInt(Math.round(v))).buffer);
    header[name] = { dtype: DTYPE_NAMES[t.dtype], shape: t.shape, data_offsets: [offset, offset + bytes.length] };
    chunks.push(bytes);
    offset += bytes.length;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  if (padded !== json.length) json = new TextEncoder().encode(JSON.stringify(header) + " ".repeat(padded - json.length));
  const length = new Uint8Array(8);
  new DataView(length.buffer).setBigUint64(0, BigInt(json.length), true);
  const out = new Uint8Array(8 + json.length + offset);
  out.set(length, 0);
  out.set(json, 8);
  let at = 8 + json.length;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

/** Writes `tensors` and `metadata` to `path` as safetensors, atomically. */
export function writeSafetensors(path: string, tensors: StateDict, metadata: Record<string, string> = {}): void {
  writeFileAtomic(path, encodeSafetensors(tensors, metadata));
}
