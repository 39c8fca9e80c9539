/**
 * Quick mode: the tests and CI run every lesson top to bottom with SPRITE_DIFFUSION_QUICK=1,
 * and a lesson shrinks its work (sample counts, sampler and training steps) when it is set, so
 * the same cells are exercised in seconds instead of minutes.
 */

/** True when SPRITE_DIFFUSION_QUICK is set to anything but "", "0" or "false". */
export function isQuickMode(): boolean {
  const value = (process.env.SPRITE_DIFFUSION_QUICK ?? "").trim().toLowerCase();
  return value !== "" && value !== "0" && value !== "false";
}

/** Picks the full or the quick value: `const steps = byMode({ full: 500, quick: 20 });`. */
export function byMode<T>(values: { full: T; quick: T }): T {
  return isQuickMode() ? values.quick : values.full;
}
