/**
 * Reading .pth files that PyTorch itself wrote (torch.save, during the test): views with storage
 * offsets and strides gathered to the values PyTorch sees; one clear error, naming the file, for a
 * truncated zip, a pickle with a foreign global (os.system), a legacy non-zip file, storages
 * pickled by value, a file that is not a zip, a zip without data.pkl, and a tensor type other than float32.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { zipSync } from "fflate";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parsePth, readPth } from "../../src/lib/interop/pthFile";
import { readJson, runTorch, scratchFolder, torchUnavailable } from "./torchInterop";

const unavailable = torchUnavailable();
if (unavailable && process.env.CI) throw new Error(`PyTorch reference needed in CI: ${unavailable}`);

describe.skipIf(unavailable !== null)(`.pth files written by torch.save (${unavailable ?? "reference present"})`, () => {
  const scratch = scratchFolder();
  beforeAll(() => {
    runTorch(["save-views", "--out", scratch.path("views.pth"), "--expect", scratch.path("views.json")]);
    runTorch(["save-foreign", "--out", scratch.path("foreign.pth")]);
    runTorch(["save-legacy", "--out", scratch.path("legacy.pth")]);
    runTorch(["save-by-value", "--out", scratch.path("by-value.pth")]);
  });
  afterAll(() => scratch.remove());

  it("gathers non-contiguous views (transposes, slices with offsets, steps, scalars, int64) to PyTorch's values", () => {
    const expected = readJson<Record<string, { shape: number[]; data: number[] }>>(scratch.path("views.json"));
    const stateDict = readPth(scratch.path("views.pth"));
    expect([...stateDict.keys()]).toEqual(Object.keys(expected));
    for (const [key, tensor] of stateDict) {
      expect(tensor.shape, key).toEqual(expected[key].shape);
      expect(Array.from(tensor.data), key).toEqual(expected[key].data);
    }
    expect(stateDict.get("counter")!.dtype).toBe("int64");
    expect(stateDict.get("transposed")!.dtype).toBe("float32");
  });

  it("refuses a pickle that names a foreign global, naming the file and the global, without running it", () => {
    const file = scratch.path("foreign.pth");
    expect(() => readPth(file)).toThrow(new RegExp(`^${file}: the pickle names the global "(posix|os)\\.system"; a state_dict needs only tensors, storages and OrderedDict`));
  });

  it("refuses a legacy (pre-zip) .pth with the way to re-save it", () => {
    expect(() => readPth(scratch.path("legacy.pth"))).toThrow(/legacy \(pre-zip\) PyTorch file.*torch\.save\(torch\.load\(.*weights_only=True\)/);
  });

  it("refuses storages pickled by value (pickle.dump of a state_dict) with the way to save it", () => {
    const file = scratch.path("by-value.pth");
    expect(() => readPth(file)).toThrow(`${file}: its storages are pickled by value (torch.storage._load_from_bytes`);
  });

  it("refuses a truncated zip", () => {
    const bytes = readFileSync(scratch.path("views.pth"));
    const file = scratch.path("truncated.pth");
    writeFileSync(file, bytes.subarray(0, Math.floor(bytes.length * 0.7)));
    expect(() => readPth(file)).toThrow(`${file}: the zip archive is truncated or damaged (${Math.floor(bytes.length * 0.7)} bytes, no end-of-central-directory record)`);
  });
});

describe(".pth files made here", () => {
  it("refuses a file that is not a zip", () => {
    expect(() => parsePth(new TextEncoder().encode('{"not": "a pth"}'), "x.pth")).toThrow(/^x\.pth: not a zip archive \(it starts with bytes 7b 22 6e 6f/);
  });

  it("refuses a zip without data.pkl", () => {
    expect(() => parsePth(zipSync({ "m/other.txt": new Uint8Array([1]) }), "x.pth")).toThrow("x.pth: a PyTorch zip file holds one <name>/data.pkl, this one 0 (none)");
  });

  it("reads deflated entries too, and refuses a double-precision storage with the fix", () => {
    // {'w': _rebuild_tensor_v2(('storage', torch.DoubleStorage, '0', 'cpu', 1), 0, (1,), (1,), False, OrderedDict())}, protocol 2
    const pickle = new Uint8Array([
      0x80, 0x02, 0x7d, 0x58, 1, 0, 0, 0, 0x77, 0x63, ...new TextEncoder().encode("torch._utils\n_rebuild_tensor_v2\n"),
      0x28, 0x28, 0x58, 7, 0, 0, 0, ...new TextEncoder().encode("storage"), 0x63, ...new TextEncoder().encode("torch\nDoubleStorage\n"),
      0x2e,
    ]);
    const zip = zipSync({ "m/data.pkl": pickle, "m/data/0": new Uint8Array(8) }, { level: 6 });
    expect(() => parsePth(zip, "d.pth")).toThrow("d.pth: tensors of type torch.DoubleStorage; this reader takes float32 weights (torch.FloatStorage): convert the model with model.float()");
  });

  it("refuses a pickle that holds a list rather than a state_dict", () => {
    const pickle = new Uint8Array([0x80, 0x02, 0x5d, 0x4b, 1, 0x61, 0x2e]); // [1]
    expect(() => parsePth(zipSync({ "m/data.pkl": pickle }), "l.pth")).toThrow("l.pth: holds a list, not a state_dict; save model.state_dict() with torch.save.");
  });
});
