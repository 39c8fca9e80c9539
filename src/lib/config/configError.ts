/**
 * The one error a config file gives: which file, which key (a dotted path such as
 * "model.downChannels[2]"), and what was wrong and what to do, in one line.
 */
export class ConfigError extends Error {
  constructor(
    /** The file (or "config" when the value did not come from a file). */
    readonly source: string,
    /** The dotted path of the offending key; "" for the file as a whole. */
    readonly key: string,
    detail: string,
  ) {
    super(`${source}: ${key === "" ? "" : `${key}: `}${detail}`);
    this.name = "ConfigError";
  }
}
