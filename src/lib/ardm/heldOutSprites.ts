/**
 * The held-out sprites an ARDM's likelihood is measured on: exactly those the improved-DDPM
 * likelihoods use (src/lib/metrics/likelihood.ts, unseenHeldOutSprites): the classifier's held-out
 * base sprites (10 % of the bases, split seed 8) in the seeded order of `seed`, minus every sprite
 * the model trained on, first n. An ARDM trained on the same seeded 24,000-sprite subset (seed 0)
 * as models/improved-ddpm therefore gets the same 1,000 sprites at n = 1000, seed 0, and its
 * bits/dim compare with models/likelihood.json's rows sprite for sprite.
 */
import * as tf from "@tensorflow/tfjs-core";
import { unseenHeldOutSprites } from "../metrics/likelihood";
import { realSpriteSet } from "../metrics/realSprites";
import type { ArdmCheckpointManifest } from "./checkpoint";
import { spriteVariables } from "./training";

export interface ArdmHeldOutSprites {
  /** [n, D] int32 category indices (uint8 channels), owned by the caller. */
  x: tf.Tensor2D;
  /** Index of each sprite in the sprite set. */
  indices: Int32Array;
  /** Which sprites these are, for reports. */
  note: string;
}

/** `n` held-out sprites the ARDM never trained on (see the module comment); throws when too few remain. */
export function ardmHeldOutSprites(n: number, seed: number, manifest: ArdmCheckpointManifest): ArdmHeldOutSprites {
  const set = realSpriteSet();
  const chosen = unseenHeldOutSprites(n, seed, manifest, set);
  tf.dispose([chosen.images, chosen.labels]);
  return { x: spriteVariables(set.dataset).batch(chosen.indices), indices: chosen.indices, note: chosen.note };
}
