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
