/**
 * Lets Node's event loop run (timers, I/O, signal handlers, a notebook's display updates and
 * its stop button) between steps of a long loop. Native TensorFlow runs ops synchronously, so
 * without this a loop of awaited steps never gives the event loop a turn.
 */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
