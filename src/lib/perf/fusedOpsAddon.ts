/**
 * The library's own TensorFlow ops (src/native/fusedOps.c), built for this machine by
 * scripts/native/build-fused-ops.sh into .native/fused-ops/ at set-up. Loading the addon registers
 * its ops in the libtensorflow that @tensorflow/tfjs-node runs, after which tfjs-node's backend
 * executes them by name like any TensorFlow op. Loaded once; a missing or broken addon is a reason,
 * never an error: the kernels then stay tfjs's separate ones.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { PROJECT_ROOT } from "../data/projectRoot";

export const FUSED_OPS_ADDON = join(PROJECT_ROOT, ".native", "fused-ops", "sprite_fused_ops.node");

export type FusedOpsState = { ops: string[] } | { unavailable: string };

let state: FusedOpsState | null = null;

/** Loads the addon if not yet loaded (tfjs-node must be loaded first); the ops it registered, or why none. */
export function loadFusedOps(): FusedOpsState {
  if (state) return state;
  if (!existsSync(FUSED_OPS_ADDON)) {
    state = { unavailable: `${FUSED_OPS_ADDON} is not built (bash scripts/native-tfjs.sh builds it)` };
    return state;
  }
  try {
    const addon = { exports: {} as { ops?: string[] } };
    process.dlopen(addon, FUSED_OPS_ADDON);
    state = { ops: addon.exports.ops ?? [] };
  } catch (error) {
    state = { unavailable: `${FUSED_OPS_ADDON} failed to load: ${(error as Error).message.split("\n")[0]}` };
  }
  return state;
}
