/** max |a - b| / max |b|: an error relative to the reference's scale. */
export function relativeError(ours: ArrayLike<number>, reference: ArrayLike<number>, scaleFloor = 1e-30): number {
  if (ours.length !== reference.length) throw new Error(`lengths differ: ${ours.length} vs ${reference.length}`);
  let diff = 0;
  let scale = scaleFloor;
  for (let i = 0; i < reference.length; i++) {
    diff = Math.max(diff, Math.abs(ours[i] - reference[i]));
    scale = Math.max(scale, Math.abs(reference[i]));
  }
  return diff / scale;
}

/**
 * ||a - b|| / ||b|| (Euclidean norms over all values), the measure torch.allclose-style checks
 * approximate: a max-abs ratio over a deep layer's gradient picks up float32 summation-order noise
 * that the norm averages out.
 */
export function normRelativeError(ours: ArrayLike<number>, reference: ArrayLike<number>): number {
  if (ours.length !== reference.length) throw new Error(`lengths differ: ${ours.length} vs ${reference.length}`);
  let diff = 0;
  let norm = 1e-30;
  for (let i = 0; i < reference.length; i++) {
    diff += (ours[i] - reference[i]) ** 2;
    norm += reference[i] ** 2;
  }
  return Math.sqrt(diff / norm);
}
