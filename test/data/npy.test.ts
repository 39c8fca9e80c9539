import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { formatNpy, parseNpy, readNpy, writeNpy, type NpyArray } from "../../src/lib/data/npy";
import { infoLines } from "../../src/cli/npy";

const fixtures = join(__dirname, "..", "fixtures");
const scratch = mkdtempSync(join(tmpdir(), "npy-test-"));

/** Bytes of a minimal .npy with the given header dict and data bytes (built without formatNpy). */
function handMadeNpy(dict: string, data: number[], version = 1): Uint8Array {
  const prefix = version === 1 ? 10 : 12;
  const total = Math.ceil((prefix + dict.length + 1) / 64) * 64;
  const header = dict.padEnd(total - prefix - 1, " ") + "\n";
  const bytes = new Uint8Array(total + data.length);
  bytes.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
  if (version === 1) bytes.set([header.length & 255, header.length >> 8], 8);
  else bytes.set([header.length & 255, (header.length >> 8) & 255, 0, 0], 8);
  for (let i = 0; i < header.length; i++) bytes[prefix + i] = header.charCodeAt(i);
  bytes.set(data, total);
  return bytes;
}

describe("reading a file written by hand from the NPY spec", () => {
  it("reads the float64 (4, 5) one-hot labels fixture", () => {
    const labels = readNpy(join(fixtures, "labels_4x5_float64.npy"));
    expect(labels.dtype).toBe("float64");
    expect(labels.shape).toEqual([4, 5]);
    expect(Array.from(labels.data)).toEqual([1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1]);
  });

  it("the fixture matches its annotated hex listing byte for byte", () => {
    const listing = readFileSync(join(fixtures, "labels_4x5_float64.hex"), "utf8")
      .split("\n")
      .filter((line) => !line.startsWith("#"))
      .map((line) => line.replace(/#.*/, ""))
      .join(" ");
    const bytes = listing.split(/\s+/).filter((b) => b.length > 0).map((b) => Number.parseInt(b, 16));
    expect(Array.from(readFileSync(join(fixtures, "labels_4x5_float64.npy")))).toEqual(bytes);
  });

  it("our writer produces exactly the fixture's bytes (the layout np.save uses)", () => {
    const labels = readNpy(join(fixtures, "labels_4x5_float64.npy"));
    expect(Buffer.from(formatNpy(labels)).equals(readFileSync(join(fixtures, "labels_4x5_float64.npy")))).toBe(true);
  });

  it("reads a version 2.0 header and '<u1' uint8", () => {
    const v2 = parseNpy(handMadeNpy("{'descr': '<u1', 'fortran_order': False, 'shape': (2, 2), }", [1, 2, 3, 250], 2));
    expect(v2).toEqual({ dtype: "uint8", shape: [2, 2], data: Uint8Array.from([1, 2, 3, 250]) });
  });
});

describe("round trips", () => {
  const cases: NpyArray[] = [
    { dtype: "uint8", shape: [3, 16, 16, 3], data: Uint8Array.from({ length: 3 * 768 }, (_, i) => (i * 37) % 256) },
    { dtype: "float32", shape: [7, 5], data: Float32Array.from({ length: 35 }, (_, i) => Math.fround(i / 3 - 4.5)) },
    { dtype: "float64", shape: [11], data: Float64Array.from({ length: 11 }, (_, i) => Math.PI * i - 1e-300) },
    { dtype: "float64", shape: [], data: Float64Array.of(-2.5) },
    { dtype: "float32", shape: [0, 5], data: new Float32Array(0) },
  ];
  for (const array of cases) {
    for (const version of [1, 2] as const) {
      it(`${array.dtype} shape [${array.shape.join(", ")}] with a v${version}.0 header`, () => {
        const path = join(scratch, `round-${array.dtype}-${array.shape.length}-${version}.npy`);
        writeNpy(path, array, { version });
        const bytes = readFileSync(path);
        expect(bytes[6]).toBe(version);
        expect((version === 1 ? 10 + bytes.readUInt16LE(8) : 12 + bytes.readUInt32LE(8)) % 64).toBe(0);
        expect(readNpy(path)).toEqual(array);
      });
    }
  }
});

describe("errors name the file and the problem", () => {
  const good = formatNpy({ dtype: "float64", shape: [4, 5], data: new Float64Array(20) });
  const write = (name: string, bytes: Uint8Array): string => {
    const path = join(scratch, name);
    writeFileSync(path, bytes);
    return path;
  };

  it("truncated data", () => {
    const path = write("truncated.npy", good.subarray(0, good.length - 8));
    expect(() => readNpy(path)).toThrow(new RegExp(`${path}: truncated: shape \\(4, 5\\) float64 needs 160 data bytes but the file has 152`));
  });
  it("truncated header", () => {
    const path = write("short-header.npy", good.subarray(0, 40));
    expect(() => readNpy(path)).toThrow(/short-header\.npy: truncated/);
  });
  it("bad magic", () => {
    const path = write("not-npy.npy", new TextEncoder().encode("PK\u0003\u0004 this is a zip, not an npy file"));
    expect(() => readNpy(path)).toThrow(/not-npy\.npy: not a \.npy file: bad magic/);
  });
  it("unsupported dtypes (big-endian, int32)", () => {
    const big = write("big.npy", handMadeNpy("{'descr': '>f8', 'fortran_order': False, 'shape': (1,), }", [63, 240, 0, 0, 0, 0, 0, 0]));
    expect(() => readNpy(big)).toThrow(/big\.npy: dtype '>f8' is not supported/);
    const int = write("int.npy", handMadeNpy("{'descr': '<i4', 'fortran_order': False, 'shape': (1,), }", [1, 0, 0, 0]));
    expect(() => readNpy(int)).toThrow(/int\.npy: dtype '<i4' is not supported/);
  });
  it("fortran order", () => {
    const path = write("fortran.npy", handMadeNpy("{'descr': '<f8', 'fortran_order': True, 'shape': (1, 1), }", [0, 0, 0, 0, 0, 0, 240, 63]));
    expect(() => readNpy(path)).toThrow(/fortran\.npy: fortran_order is True/);
  });
  it("trailing bytes", () => {
    const path = write("trailing.npy", Uint8Array.from([...good, 1, 2, 3]));
    expect(() => readNpy(path)).toThrow(/trailing\.npy: 3 unexpected bytes after the data/);
  });
  it("a missing file", () => {
    expect(() => readNpy(join(scratch, "absent.npy"))).toThrow(/absent\.npy: cannot read the \.npy file/);
  });
  it("data that does not match the shape, when writing", () => {
    expect(() => formatNpy({ dtype: "float32", shape: [2, 3], data: new Float32Array(5) })).toThrow(/holds 6 items but data has 5/);
    expect(() => formatNpy({ dtype: "float32", shape: [1], data: new Float64Array(1) })).toThrow(/needs a Float32Array/);
  });
});

describe("npm run npy -- info", () => {
  it("prints shape, dtype and per-class counts of a one-hot labels file", () => {
    expect(infoLines(readNpy(join(fixtures, "labels_4x5_float64.npy")))).toEqual([
      "shape (4, 5) dtype float64",
      "class 0: 1",
      "class 1: 1",
      "class 2: 0",
      "class 3: 1",
      "class 4: 1",
    ]);
  });
  it("prints only shape and dtype for other arrays", () => {
    expect(infoLines({ dtype: "uint8", shape: [2, 16, 16, 3], data: new Uint8Array(1536) })).toEqual(["shape (2, 16, 16, 3) dtype uint8"]);
    expect(infoLines({ dtype: "float32", shape: [2, 2], data: Float32Array.of(1, 0, 0.5, 0.5) })).toEqual(["shape (2, 2) dtype float32"]);
  });
});
