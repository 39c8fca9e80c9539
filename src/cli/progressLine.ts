/** A one-line terminal progress bar, redrawn in place: [#####.....] 45/90 loss ... ETA 2:05. */
export { formatDuration } from "../lib/notebook/progress";

export function progressBar(done: number, total: number, width = 24): string {
  const filled = Math.round((width * Math.min(done, total)) / Math.max(1, total));
  return `[${"#".repeat(filled)}${".".repeat(width - filled)}] ${done}/${total}`;
}

/** Redraws one line on a terminal; on a pipe, prints a line every `everyMs`. */
export class ProgressLine {
  private lastPrint = 0;
  constructor(
    private readonly stream: NodeJS.WriteStream = process.stderr,
    private readonly everyMs = 10_000,
  ) {}

  update(text: string): void {
    if (this.stream.isTTY) {
      this.stream.write(`\r${text.slice(0, (this.stream.columns || 120) - 1).padEnd((this.stream.columns || 120) - 1)}`);
    } else if (Date.now() - this.lastPrint >= this.everyMs) {
      this.stream.write(`${text}\n`);
      this.lastPrint = Date.now();
    }
  }

  /** Ends the redrawn line and prints `text` on its own line. */
  log(text: string): void {
    if (this.stream.isTTY) this.stream.write("\n");
    this.stream.write(`${text}\n`);
  }
}
