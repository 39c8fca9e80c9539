/**
 * Rich output for notebooks: PNG grids, GIF animations, HTML, and display slots updated in place.
 *
 * Inside the tslab kernel each call sends one Jupyter `display_data` message (a mime bundle: the
 * same content as several mime types, the front end picks the richest it can draw). Outside tslab
 * (plain Node, tests, command-line tools) nothing crashes: a one-line text stand-in goes to stdout.
 *
 * Why not only tslab's public `display`: it sends one mime type per message and only strings, but
 * a plot needs a JSON object (application/vnd.plotly.v1+json) next to its HTML fallback, and a GIF
 * needs an HTML <img> next to image/gif because nbconvert's HTML export drops image/gif. So this
 * module writes through the same channel tslab's `display` uses, `lastWriteDisplayData` of
 * tslab/dist/jupyter (tslab 1.0.22 is the last release; the project pins it).
 */
import { randomBytes } from "crypto";

/** One output in several representations, keyed by mime type (JSON types take objects). */
export type MimeBundle = Record<string, string | object>;

/** The Jupyter display message content tslab's channel takes. */
interface DisplayContent {
  data: MimeBundle;
  metadata: Record<string, unknown>;
  transient: { display_id?: string };
}
type WriteDisplayData = (content: DisplayContent, update: boolean) => void;

/** True when this code runs inside the tslab kernel (tslab sets `__tslab__` when it starts). */
export function inTslabKernel(): boolean {
  return "__tslab__" in globalThis;
}

/**
 * tslab's display channel, or null outside the kernel. It is the module instance the kernel runs:
 * both resolve to the project's node_modules/tslab.
 */
function kernelDisplayChannel(): WriteDisplayData | null {
  if (!inTslabKernel()) return null;
  const jupyter = require("tslab/dist/jupyter") as { lastWriteDisplayData: WriteDisplayData | null };
  if (jupyter.lastWriteDisplayData == null) {
    throw new Error("tslab's display channel is not ready: display from inside a notebook cell.");
  }
  return jupyter.lastWriteDisplayData;
}

/**
 * Shows a mime bundle. `textStandIn` is what a terminal sees outside tslab; it also goes into the
 * bundle as text/plain unless the bundle has one.
 */
export function showBundle(bundle: MimeBundle, textStandIn: string): void {
  const channel = kernelDisplayChannel();
  if (channel == null) {
    process.stdout.write(textStandIn + "\n");
    return;
  }
  channel({ data: { "text/plain": textStandIn, ...bundle }, metadata: {}, transient: {} }, false);
}

/**
 * One output slot that each `show` replaces in place (a progress bar, a live chart). In a
 * terminal every `show` prints its text stand-in on a new line; callers throttle.
 */
export class DisplaySlot {
  /** Jupyter's display_id: later messages with it replace the first one's output. */
  private readonly displayId = randomBytes(8).toString("hex");
  private shown = false;

  show(bundle: MimeBundle, textStandIn: string): void {
    const channel = kernelDisplayChannel();
    if (channel == null) {
      process.stdout.write(textStandIn + "\n");
      return;
    }
    const data = { "text/plain": textStandIn, ...bundle };
    channel({ data, metadata: {}, transient: { display_id: this.displayId } }, this.shown);
    this.shown = true;
  }
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const GIF_SIGNATURE = [0x47, 0x49, 0x46, 0x38]; // "GIF8" (GIF87a and GIF89a)

function startsWith(bytes: Uint8Array, signature: readonly number[]): boolean {
  return bytes.length >= signature.length && signature.every((byte, i) => bytes[i] === byte);
}

function describeStart(bytes: Uint8Array): string {
  const head = Array.from(bytes.subarray(0, 8), (b) => b.toString(16).padStart(2, "0")).join(" ");
  return `${bytes.length} bytes starting ${head || "(empty)"}`;
}

function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
}

/**
 * Shows an encoded PNG (e.g. `renderGridPng`'s result) inline at its own pixel size.
 * Throws when the bytes are not a PNG (a tensor or a GIF passed by mistake).
 */
export function showPng(png: Uint8Array): void {
  if (!(png instanceof Uint8Array) || !startsWith(png, PNG_SIGNATURE)) {
    const seen = png instanceof Uint8Array ? describeStart(png) : typeof png;
    throw new Error(`showPng expects encoded PNG bytes (a Uint8Array/Buffer from renderGridPng); got ${seen}. For a GIF use showGif.`);
  }
  showBundle({ "image/png": base64(png) }, `[PNG image, ${png.length} bytes]`);
}

/**
 * Shows an encoded GIF animation (e.g. `renderGif`'s result) inline; it loops in the browser.
 * The bundle carries image/gif and an HTML <img> with the same bytes (exported HTML shows the
 * latter). Throws when the bytes are not a GIF.
 */
export function showGif(gif: Uint8Array): void {
  if (!(gif instanceof Uint8Array) || !startsWith(gif, GIF_SIGNATURE)) {
    const seen = gif instanceof Uint8Array ? describeStart(gif) : typeof gif;
    throw new Error(`showGif expects encoded GIF bytes (a Uint8Array/Buffer from renderGif); got ${seen}. For a PNG use showPng.`);
  }
  const encoded = base64(gif);
  showBundle(
    { "image/gif": encoded, "text/html": `<img src="data:image/gif;base64,${encoded}" alt="animation"/>` },
    `[GIF animation, ${gif.length} bytes]`,
  );
}

/** Shows an HTML fragment (tables, captions). Outside tslab the HTML source is printed. */
export function showHtml(html: string): void {
  showBundle({ "text/html": html }, html);
}

/** Shows Markdown (JupyterLab renders it, formulas included). Outside tslab it is printed. */
export function showMarkdown(markdown: string): void {
  showBundle({ "text/markdown": markdown }, markdown);
}

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;");
}
