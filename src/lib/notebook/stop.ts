/**
 * Stopping a long loop from the notebook's stop button (or Ctrl-C in a terminal).
 *
 * JupyterLab's stop button interrupts the kernel by sending SIGINT to its process. tslab
 * (1.0.22, dist/main.js) handles it with `process.on("SIGINT", () => executor.interrupt())`,
 * which only rejects the promise the cell is awaiting: the cell reports "Interrupted
 * asynchronously" while an awaited loop keeps running in the background, holding the CPU and
 * its tensors. So a loop must notice by itself: it polls a StopSignal between steps.
 *
 *     const stop = watchForStop();
 *     try {
 *       for (let i = 0; i < steps && !stop.requested; i++) { ...; await tf.nextFrame(); }
 *     } finally {
 *       stop.release();
 *     }
 *
 * The loop must await something each step (a tensor read, tf.nextFrame()): a SIGINT handler
 * runs only when the loop yields to the event loop.
 *
 * In a terminal (command-line tools) the first Ctrl-C asks the loop to stop after its step;
 * the request ends the watch, so a second Ctrl-C gets Node's default and exits at once.
 */
import { inTslabKernel } from "./display";

/** Signals being watched; one SIGINT stops them all and ends their watch. */
const watching = new Set<StopSignal>();

function onInterrupt(): void {
  for (const signal of Array.from(watching)) signal.request("interrupted (SIGINT)");
  if (!inTslabKernel()) {
    process.stderr.write("\nStopping after the current step (Ctrl-C again to quit now).\n");
  }
}

function listenForInterrupts(): void {
  if (!process.listeners("SIGINT").includes(onInterrupt)) process.on("SIGINT", onInterrupt);
}

/**
 * A one-shot stop request for one loop. `requested` becomes true when the kernel is interrupted
 * (SIGINT) while the signal is watched, or when `request()` is called. `signal` is the same as
 * a standard AbortSignal, for functions that take one.
 */
export class StopSignal {
  private readonly controller = new AbortController();
  private why: string | null = null;

  constructor() {
    watching.add(this);
    if (inTslabKernel()) {
      // Not now: tslab runs a cell's synchronous part under vm's breakOnSigint, and a SIGINT
      // listener added during it is never called (tried: the interrupt is lost). Later, once.
      setImmediate(listenForInterrupts);
    } else {
      listenForInterrupts();
    }
  }

  /** True once a stop was requested: finish the current step and leave the loop. */
  get requested(): boolean {
    return this.why !== null;
  }

  /** Why the stop was requested ("interrupted (SIGINT)" or request's reason), or null. */
  get reason(): string | null {
    return this.why;
  }

  /** An AbortSignal that aborts when a stop is requested. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Function form of `requested`, for code that takes a `shouldStop` callback. */
  readonly shouldStop = (): boolean => this.requested;

  /** Asks the loop to stop (e.g. from a callback that saw a NaN loss). */
  request(reason = "requested"): void {
    if (this.why !== null) return;
    this.why = reason;
    this.controller.abort(new Error(`stopped: ${reason}`));
    this.release();
  }

  /** Stops watching for interrupts; the last release in a terminal restores Node's Ctrl-C. */
  release(): void {
    watching.delete(this);
    // In tslab the listener stays: tslab's own keeps SIGINT handled, and an idle one does nothing.
    if (watching.size === 0 && !inTslabKernel()) process.removeListener("SIGINT", onInterrupt);
  }
}

/** Starts watching for an interrupt for one loop; release() it when the loop ends. */
export function watchForStop(): StopSignal {
  return new StopSignal();
}
