/**
 * Converts between PyTorch's tensor layouts (a state_dict dumped as flat arrays) and this
 * library's, so the course's or the reference's weights load by name and gradients compare.
 *   conv   PyTorch [out, in, kh, kw]  <->  ours [kh, kw, in, out]
 *   convT  PyTorch [in, out, kh, kw]  <->  ours [in, kh, kw, out]
 *   linear PyTorch [out, in]          <->  ours [in, out]
 *   vectors are the same in both.
 */
import type { ParameterKind, ParameterStore, WeightMap } from "./parameters";

/** A state_dict entry as `contextunet_torch.py dump` writes it: shape and row-major values. */
export type TorchTensorJson = { shape: number[]; data: ArrayLike<number> };

/** Strides of a row-major tensor of `shape`. */
function strides(shape: number[]): number[] {
  const s = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) s[i] = s[i + 1] * shape[i + 1];
  return s;
}

/**
 * out = permute(input, axes): output axis i is input axis axes[i] (numpy.transpose semantics).
 */
export function permute(data: ArrayLike<number>, shape: number[], axes: number[]): Float32Array {
  const outShape = axes.map((a) => shape[a]);
  const inStrides = strides(shape);
  const out = new Float32Array(data.length);
  const index = new Array<number>(shape.length).fill(0);
  for (let flat = 0; flat < out.length; flat++) {
    let source = 0;
    for (let i = 0; i < axes.length; i++) source += index[i] * inStrides[axes[i]];
    out[flat] = data[source];
    for (let i = axes.length - 1; i >= 0; i--) {
      if (++index[i] < outShape[i]) break;
      index[i] = 0;
    }
  }
  return out;
}

/** Axes taking a PyTorch tensor of this kind to ours; undefined = same layout. */
const TORCH_TO_OURS: Partial<Record<ParameterKind, number[]>> = {
  conv: [2, 3, 1, 0],
  convT: [0, 2, 3, 1],
  linear: [1, 0],
};

/** The inverse permutation of `axes`. */
function inverse(axes: number[]): number[] {
  const inv = new Array<number>(axes.length);
  axes.forEach((a, i) => (inv[a] = i));
  return inv;
}

/** Converts one tensor of `kind` from PyTorch's layout to ours. */
export function fromTorchLayout(kind: ParameterKind, tensor: TorchTensorJson): { shape: number[]; data: Float32Array } {
  const axes = TORCH_TO_OURS[kind];
  if (!axes) return { shape: tensor.shape.slice(), data: Float32Array.from(tensor.data) };
  return { shape: axes.map((a) => tensor.shape[a]), data: permute(tensor.data, tensor.shape, axes) };
}

/** Converts one tensor of `kind` with our `shape` to PyTorch's layout (for comparing gradients). */
export function toTorchLayout(kind: ParameterKind, shape: number[], data: ArrayLike<number>): Float32Array {
  const axes = TORCH_TO_OURS[kind];
  return axes ? permute(data, shape, inverse(axes)) : Float32Array.from(data);
}

/**
 * Maps a PyTorch state_dict of the same architecture onto `store`'s keys and layouts.
 * Integer buffers such as BatchNorm's num_batches_tracked are ignored.
 */
export function weightsFromTorch(store: ParameterStore, stateDict: Record<string, TorchTensorJson>): WeightMap {
  const weights: WeightMap = {};
  for (const [key, tensor] of Object.entries(stateDict)) {
    if (key.endsWith("num_batches_tracked")) continue;
    const known = store.keys().includes(key);
    weights[key] = known ? fromTorchLayout(store.spec(key).kind, tensor) : fromTorchLayout("bias", tensor);
  }
  return weights;
}
