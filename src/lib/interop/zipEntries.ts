/**
 * The entries of a zip archive, as `torch.save` writes them since PyTorch 1.6 (stored, each
 * record aligned to 64 bytes). fflate reads the central directory; this file only names what
 * went wrong in words a user can act on (a truncated download, a legacy .pth, not a zip at all).
 */
import { unzipSync } from "fflate";

/** A zip file starts with a local file header "PK\x03\x04". */
const LOCAL_HEADER = [0x50, 0x4b, 0x03, 0x04];
/** The end-of-central-directory record "PK\x05\x06" sits in the last 22 + 65535 bytes. */
const END_OF_DIRECTORY = [0x50, 0x4b, 0x05, 0x06];
/** A pickle of protocol 2 or later starts with PROTO (0x80); legacy torch.save files are raw pickles. */
const PICKLE_PROTO = 0x80;

function startsWith(bytes: Uint8Array, at: number, magic: number[]): boolean {
  return magic.every((b, i) => bytes[at + i] === b);
}

function hasEndOfDirectory(bytes: Uint8Array): boolean {
  const earliest = Math.max(0, bytes.length - 22 - 65535);
  for (let i = bytes.length - 22; i >= earliest; i--) if (startsWith(bytes, i, END_OF_DIRECTORY)) return true;
  return false;
}

/**
 * Every entry of the zip archive in `bytes` by its path inside the archive; `file` names the
 * archive in errors. Throws one clear error for a legacy (non-zip) torch file, a file that is not
 * a zip, and a truncated or damaged zip.
 */
export function readZipEntries(bytes: Uint8Array, file: string): Map<string, Uint8Array> {
  if (!startsWith(bytes, 0, LOCAL_HEADER)) {
    if (bytes[0] === PICKLE_PROTO) {
      throw new Error(`${file}: a legacy (pre-zip) PyTorch file, written by PyTorch < 1.6 or with _use_new_zipfile_serialization=False; this reader takes only the zip format. Re-save it in Python: torch.save(torch.load("${file}", weights_only=True), "model.pth").`);
    }
    throw new Error(`${file}: not a zip archive (it starts with bytes ${[...bytes.subarray(0, 4)].map((b) => b.toString(16).padStart(2, "0")).join(" ")}, a zip with 50 4b 03 04); is it a PyTorch .pth file?`);
  }
  if (!hasEndOfDirectory(bytes)) {
    throw new Error(`${file}: the zip archive is truncated or damaged (${bytes.length} bytes, no end-of-central-directory record); download or copy it again.`);
  }
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(bytes);
  } catch (error) {
    throw new Error(`${file}: the zip archive is damaged (${(error as Error).message}); download or copy it again.`);
  }
  return new Map(Object.entries(entries));
}
