/**
 * When a training command stops early: the first Ctrl-C asks to stop after the current step (the
 * command then saves a resumable checkpoint), a second quits at once, losing the step; and
 * --max-minutes stops at its deadline the same clean way.
 */
import type { ProgressLine } from "./progressLine";

/** Installs the Ctrl-C handler; returns the flag the trainer's shouldStop reads. */
export function trainingStop(log: ProgressLine, maxMinutes: number | undefined): () => boolean {
  let interrupted = false;
  process.on("SIGINT", () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    log.log("stopping after this step (Ctrl-C again to quit at once, losing the step)");
  });
  const deadline = maxMinutes !== undefined ? Date.now() + maxMinutes * 60_000 : Infinity;
  return () => interrupted || Date.now() > deadline;
}
