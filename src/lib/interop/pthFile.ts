/**
 * Reads the state_dict in a PyTorch .pth file of the zip format (`torch.save` since PyTorch 1.6):
 * `<name>/data.pkl` is a pickle of an OrderedDict of tensors whose storages are the entries
 * `<name>/data/<key>` (raw little-endian values). Tensors may be views: a storage offset and
 * strides pick their values out of a shared storage, and are gathered here into row-major copies.
 *
 * The pickle may name only collections.OrderedDict, torch._utils._rebuild_tensor_v2 (and
 * _rebuild_parameter) and the storage types torch.FloatStorage and torch.LongStorage (BatchNorm's
 * num_batches_tracked); any other global is refused before anything is built from it.
 */
import { readFileSync } from "node:fs";
import { readPickle } from "./pickleReader";
import { readZipEntries } from "./zipEntries";

/** A tensor from a state_dict, row-major: float32 weights, or int64 counters as numbers. */
export interface TorchTensor {
  dtype: "float32" | "int64";
  shape: number[];
  data: Float32Array | Float64Array;
}

/** A state_dict: tensors by key, in the file's order. */
export type StateDict = Map<string, TorchTensor>;

/** The storage types a state_dict of float32 weights holds, with their element sizes. */
const STORAGE_TYPES: Record<string, { dtype: TorchTensor["dtype"]; bytes: number }> = {
  FloatStorage: { dtype: "float32", bytes: 4 },
  LongStorage: { dtype: "int64", bytes: 8 },
};

/** A storage type named by the pickle (a marker: it is never called). */
class StorageType {
  constructor(readonly name: string) {}
}

interface Storage {
  dtype: TorchTensor["dtype"];
  values: Float32Array | Float64Array;
}

const TENSOR = Symbol("torch tensor");
type Tagged = TorchTensor & { [TENSOR]: true };

/** Values of one storage entry as numbers (int64 converted exactly up to 2^53). */
function storageValues(bytes: Uint8Array, type: { dtype: TorchTensor["dtype"]; bytes: number }, count: number): Float32Array | Float64Array {
  const copy = bytes.slice(0, count * type.bytes);
  if (type.dtype === "float32") return new Float32Array(copy.buffer, 0, count);
  return Float64Array.from(new BigInt64Array(copy.buffer, 0, count), (v) => Number(v));
}

/**
 * torch._utils._rebuild_tensor_v2(storage, offset, size, stride, ...): the view's values,
 * gathered row-major; throws when the view reaches outside its storage.
 */
function rebuildTensor(file: string, storage: Storage, offset: number, size: number[], stride: number[]): Tagged {
  if (!Array.isArray(size) || !Array.isArray(stride) || size.length !== stride.length) {
    throw new Error(`${file}: a tensor has size ${JSON.stringify(size)} and stride ${JSON.stringify(stride)}, which do not pair up.`);
  }
  const count = size.reduce((n, s) => n * s, 1);
  const data = storage.dtype === "float32" ? new Float32Array(count) : new Float64Array(count);
  const index = new Array<number>(size.length).fill(0);
  for (let flat = 0; flat < count; flat++) {
    let source = offset;
    for (let d = 0; d < size.length; d++) source += index[d] * stride[d];
    if (source < 0 || source >= storage.values.length) {
      throw new Error(`${file}: a tensor of size [${size}] (offset ${offset}, stride [${stride}]) reaches element ${source} of a storage of ${storage.values.length}; the file is damaged.`);
    }
    data[flat] = storage.values[source];
    for (let d = size.length - 1; d >= 0; d--) {
      if (++index[d] < size[d]) break;
      index[d] = 0;
    }
  }
  return { dtype: storage.dtype, shape: size.slice(), data, [TENSOR]: true };
}

/** The single `<name>/data.pkl` entry's folder prefix ("<name>/"). */
function archivePrefix(entries: Map<string, Uint8Array>, file: string): string {
  const pickles = [...entries.keys()].filter((name) => name === "data.pkl" || name.endsWith("/data.pkl"));
  if (pickles.length !== 1) {
    throw new Error(`${file}: a PyTorch zip file holds one <name>/data.pkl, this one ${pickles.length} (${pickles.join(", ") || "none"}); was it written by torch.save?`);
  }
  return pickles[0].slice(0, -"data.pkl".length);
}

/**
 * The state_dict in the .pth file `bytes` (named `file` in errors): every tensor by key, row-major
 * in PyTorch's own layout ([out, in, kh, kw] convolutions). Throws one clear error for a legacy or
 * damaged file, a refused global, an unknown storage type, or a pickle that is not a dict of tensors.
 */
export function parsePth(bytes: Uint8Array, file: string): StateDict {
  const entries = readZipEntries(bytes, file);
  const prefix = archivePrefix(entries, file);
  const byteorder = entries.get(`${prefix}byteorder`);
  if (byteorder && new TextDecoder().decode(byteorder).trim() !== "little") {
    throw new Error(`${file}: tensors stored big-endian; re-save the file on a little-endian machine.`);
  }
  const storages = new Map<string, Storage>();
  const refuse = (what: string): never => {
    throw new Error(`${file}: the pickle names ${what}; a state_dict needs only tensors, storages and OrderedDict, so it is refused (loading it could run code in Python).`);
  };
  const value = readPickle(entries.get(`${prefix}data.pkl`)!, file, {
    resolveGlobal(module, name) {
      const qualified = `${module}.${name}`;
      if (qualified === "collections.OrderedDict") return () => new Map();
      if (qualified === "torch._utils._rebuild_tensor_v2") {
        return (storage: unknown, offset: unknown, size: unknown, stride: unknown) => rebuildTensor(file, storage as Storage, Number(offset), size as number[], stride as number[]);
      }
      if (qualified === "torch._utils._rebuild_parameter") return (data: unknown) => data;
      if (qualified === "torch.storage._load_from_bytes") {
        throw new Error(`${file}: its storages are pickled by value (torch.storage._load_from_bytes: pickle.dump or the legacy format), which nests whole torch files; this reader takes torch.save's zip format: torch.save(model.state_dict(), "model.pth").`);
      }
      if (module === "torch" && name.endsWith("Storage")) {
        if (!STORAGE_TYPES[name]) throw new Error(`${file}: tensors of type torch.${name}; this reader takes float32 weights (torch.FloatStorage): convert the model with model.float() and save its state_dict again.`);
        return new StorageType(name);
      }
      return refuse(`the global "${qualified}"`);
    },
    persistentLoad(pid) {
      if (!Array.isArray(pid) || pid[0] !== "storage" || !(pid[1] instanceof StorageType)) return refuse(`a persistent object ${JSON.stringify(Array.isArray(pid) ? pid[0] : pid)}`);
      const [, type, key, , numel] = pid as [string, StorageType, string, string, number];
      const cached = storages.get(key);
      if (cached) return cached;
      const entry = entries.get(`${prefix}data/${key}`);
      const kind = STORAGE_TYPES[type.name];
      if (!entry) throw new Error(`${file}: storage ${prefix}data/${key} is missing from the archive; the file is damaged.`);
      if (entry.length < numel * kind.bytes) throw new Error(`${file}: storage ${prefix}data/${key} has ${entry.length} bytes for ${numel} values of ${kind.bytes} bytes; the file is damaged.`);
      const storage: Storage = { dtype: kind.dtype, values: storageValues(entry, kind, numel) };
      storages.set(key, storage);
      return storage;
    },
    build(target, state) {
      // OrderedDict's state is the state_dict's `_metadata` (module versions): nothing to build.
      if (!(target instanceof Map)) refuse("object state (BUILD) for something that is not an OrderedDict");
      void state;
    },
  });
  if (!(value instanceof Map)) throw new Error(`${file}: holds a ${Array.isArray(value) ? "list" : typeof value}, not a state_dict; save model.state_dict() with torch.save.`);
  const stateDict: StateDict = new Map();
  for (const [key, tensor] of value) {
    if (typeof key !== "string" || typeof tensor !== "object" || tensor === null || !(TENSOR in tensor)) {
      throw new Error(`${file}: entry ${JSON.stringify(key)} is not a tensor; save model.state_dict() itself (not a dict that holds it) with torch.save.`);
    }
    const { dtype, shape, data } = tensor as Tagged;
    stateDict.set(key, { dtype, shape, data });
  }
  return stateDict;
}

/** The state_dict in the .pth file at `path`; see parsePth. */
export function readPth(path: string): StateDict {
  return parsePth(new Uint8Array(readFileSync(path)), path);
}
