/**
 * The sprites a diffusion checkpoint was trained on, recovered from its manifest, for the
 * nearest-training-neighbour distance ("is the model copying?"). The manifest records the data
 * files, the count and a fingerprint; `npm run train -- --subset N` trains on a seeded subset,
 * which is rebuilt here the way src/cli/train.ts draws it and accepted only if the fingerprint
 * matches. When it cannot be recovered, the whole file set stands in (a superset, so the distances
 * are lower bounds) and `exact` says so.
 */
import { existsSync } from "node:fs";
import { relative } from "node:path";
import { SUBSET_STREAM, epochOrder } from "../data/batches";
import { type SpriteDataset, fingerprint, loadImagesOnlyDataset, loadSpriteDataset, subsetDataset } from "../data/dataset";
import type { CheckpointManifest } from "../train/checkpoint";
import { PROJECT_ROOT, projectPath } from "../data/projectRoot";
import { realSpriteSet } from "./realSprites";

/**
 * What this reads of a checkpoint's manifest: its data record and the training seed (which draws a
 * --subset). A diffusion checkpoint's manifest has both, and so has an ARDM's.
 */
export interface TrainingDataRecord {
  data: CheckpointManifest["data"];
  training: { config: { seed: number } } | null;
}

export interface DiffusionTrainingSet {
  /** The full data set the sprites come from. */
  dataset: SpriteDataset;
  /** Indices of the training sprites in `dataset` (sorted). */
  indices: Int32Array;
  /** True when the indices reproduce the checkpoint's data fingerprint. */
  exact: boolean;
  /** Where the sprites came from and how they were matched, for reports. */
  note: string;
}

/** Loads the data files a manifest names ("images.npy + labels.npy", or "images.npy" alone), or null when absent. */
function manifestFiles(manifest: TrainingDataRecord): SpriteDataset | null {
  const parts = (manifest.data?.source.split(" + ") ?? []).map(projectPath);
  if (parts.length < 1 || parts.length > 2 || !parts.every((p) => existsSync(p))) return null;
  return parts.length === 2 ? loadSpriteDataset(parts[0], parts[1]) : loadImagesOnlyDataset(parts[0]);
}

/** Recovers the checkpoint's training sprites (see the module comment). */
export function diffusionTrainingSet(manifest: TrainingDataRecord): DiffusionTrainingSet {
  const wanted = manifest.data;
  const dataset = manifestFiles(manifest);
  // The files as the project sees them (manifests may hold absolute paths of the training machine).
  const source = wanted ? wanted.source.split(" + ").map((p) => relative(PROJECT_ROOT, projectPath(p))).join(" + ") : "(not recorded)";
  if (wanted && dataset) {
    const all = Int32Array.from({ length: dataset.count }, (_, i) => i);
    if (wanted.count === dataset.count && fingerprint(dataset) === wanted.fingerprint) {
      return { dataset, indices: all, exact: true, note: `all ${dataset.count} sprites of ${source}` };
    }
    const seed = manifest.training?.config.seed ?? 0;
    if (wanted.count < dataset.count) {
      const subset = epochOrder(dataset.count, seed, SUBSET_STREAM).slice(0, wanted.count).sort();
      if (fingerprint(subsetDataset(dataset, subset)) === wanted.fingerprint) {
        return { dataset, indices: subset, exact: true, note: `the seeded subset of ${wanted.count} of ${source} (fingerprint ${wanted.fingerprint} matches)` };
      }
    }
    return { dataset, indices: all, exact: false, note: `${source} (all ${dataset.count}; the ${wanted.count} training sprites could not be recovered, distances are lower bounds)` };
  }
  const project = realSpriteSet();
  return {
    dataset: project.dataset,
    indices: Int32Array.from({ length: project.dataset.count }, (_, i) => i),
    exact: false,
    note: `the project's sprite set in ${relative(PROJECT_ROOT, project.dir)} (the checkpoint's data files ${source} are missing; distances are to a stand-in)`,
  };
}
