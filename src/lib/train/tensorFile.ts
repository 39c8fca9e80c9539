/**
 * One file of little-endian float32 tensors beside a JSON manifest that indexes and hashes it:
 * the storage both diffusion checkpoints and the classifier use. The tensor file's name carries
 * its hash, so a new one never overwrites the file the current manifest points to.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync, readdirSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import type { WeightMap } from "../model/parameters";
import { writeFileAtomic } from "./atomicFile";

export interface TensorIndexEntry {
  name: string;
  /** Which part of the state a tensor belongs to, when a file holds several (model, optimizer, ...). */
  group?: string;
  shape: number[];
  /** Offset in float32 elements from the start of the tensor file. */
  offset: number;
}

export interface TensorIndex {
  file: string;
  sha256: string;
  entries: TensorIndexEntry[];
}

const sizeOf = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/** Writes the groups' tensors into one new file in `folder` (atomically) and returns its index. */
export function writeTensorFile(folder: string, groups: Array<{ group?: string; weights: WeightMap }>): TensorIndex {
  const entries: TensorIndexEntry[] = [];
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const { group, weights } of groups) {
    for (const [name, tensor] of Object.entries(weights)) {
      entries.push({ name, ...(group === undefined ? {} : { group }), shape: tensor.shape, offset });
      const data = Float32Array.from(tensor.data); // a fresh, aligned copy (little-endian on x86 and ARM)
      chunks.push(new Uint8Array(data.buffer));
      offset += data.length;
    }
  }
  const hash = createHash("sha256");
  for (const chunk of chunks) hash.update(chunk);
  const sha256 = hash.digest("hex");
  const file = `tensors-${sha256.slice(0, 12)}.bin`;
  writeFileAtomic(join(folder, file), chunks);
  return { file, sha256, entries };
}

/** Writes `manifest` as folder/name atomically, then removes tensor files it does not name. */
export function commitManifest(folder: string, name: string, manifest: { tensors: TensorIndex }): void {
  writeFileAtomic(join(folder, name), new TextEncoder().encode(JSON.stringify(manifest, null, 1) + "\n"));
  for (const file of readdirSync(folder)) {
    if (file.startsWith("tensors-") && file.endsWith(".bin") && file !== manifest.tensors.file) unlinkSync(join(folder, file));
  }
}

/**
 * Reads and verifies the tensor file an index names (present, of the indexed size, matching its
 * sha256); returns the tensors by group ("" for ungrouped). `what` names the owner in errors.
 */
export function readTensorFile(folder: string, index: TensorIndex, what: string): Map<string, WeightMap> {
  const path = join(folder, index.file);
  if (!existsSync(path)) throw new Error(`${what} ${folder}: its tensor file ${index.file} is missing.`);
  const bytes = readFileSync(path);
  const expectedBytes = index.entries.reduce((n, e) => n + 4 * sizeOf(e.shape), 0);
  if (bytes.length !== expectedBytes) {
    throw new Error(`${what} ${path} has ${bytes.length} bytes, the manifest needs ${expectedBytes}: the file is truncated or damaged.`);
  }
  if (createHash("sha256").update(bytes).digest("hex") !== index.sha256) {
    throw new Error(`${what} ${path} does not match the sha256 in its manifest: the file is damaged.`);
  }
  const floats = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
  const groups = new Map<string, WeightMap>();
  for (const entry of index.entries) {
    const group = entry.group ?? "";
    if (!groups.has(group)) groups.set(group, {});
    groups.get(group)![entry.name] = { shape: entry.shape, data: floats.slice(entry.offset, entry.offset + sizeOf(entry.shape)) };
  }
  return groups;
}
