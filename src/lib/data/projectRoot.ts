/**
 * The project's root folder, found from this file rather than the working directory, so a notebook
 * (run from notebooks/), a command (run from anywhere) and the built library (dist/) agree on
 * where data/, models/ and package.json are. The one place the library computes it.
 */
import { isAbsolute, join, resolve } from "node:path";

/** The project's root folder: src/lib/data and dist/lib/data are both 3 deep. */
export const PROJECT_ROOT: string = resolve(__dirname, "..", "..", "..");

/** A path relative to the project root (absolute paths pass through). */
export function projectPath(path: string): string {
  return isAbsolute(path) ? path : join(PROJECT_ROOT, path);
}
