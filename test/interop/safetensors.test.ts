/**
 * The safetensors reader and writer: a round trip keeps names, order, shapes, dtypes, values and
 * metadata; the header is padded to 8 bytes; each broken rule of the format gets one clear error
 * naming the file: a header that lies about its offsets (a hole, an overlap, data past the end),
 * a byte span that does not fit dtype and shape, a header longer than the file, non-JSON, an
 * unsupported dtype.
 */
import { describe, expect, it } from "vitest";
import type { StateDict } from "../../src/lib/interop/pthFile";
import { encodeSafetensors, parseSafetensors } from "../../src/lib/interop/safetensors";

/** A safetensors file with this header object and `dataBytes` bytes of data (0, 1, 2, ...). */
function fileWith(header: Record<string, unknown>, dataBytes: number): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + dataBytes);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  for (let i = 0; i < dataBytes; i++) out[8 + json.length + i] = i & 0xff;
  return out;
}

const tensors: StateDict = new Map([
  ["b.weight", { dtype: "float32", shape: [2, 3], data: Float32Array.of(1, -2, 3.5, 0, 1e-7, -1e30) }],
  ["a.bias", { dtype: "float32", shape: [1], data: Float32Array.of(0.25) }],
  ["a.num_batches_tracked", { dtype: "int64", shape: [], data: Float64Array.of(7680) }],
]);

describe("safetensors", () => {
  it("round-trips names in order, shapes, dtypes, values and metadata; pads the header to 8 bytes", () => {
    const bytes = encodeSafetensors(tensors, { format: "pt", note: "x" });
    const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect(headerLength % 8).toBe(0);
    const back = parseSafetensors(bytes, "m.safetensors");
    expect(back.metadata).toEqual({ format: "pt", note: "x" });
    expect([...back.tensors.keys()]).toEqual([...tensors.keys()]);
    for (const [name, t] of tensors) {
      const b = back.tensors.get(name)!;
      expect([b.dtype, b.shape, Array.from(b.data)]).toEqual([t.dtype, t.shape, Array.from(t.data)]);
    }
  });

  it("refuses a header that lies about its offsets: a hole between tensors", () => {
    const file = fileWith({ a: { dtype: "F32", shape: [1], data_offsets: [0, 4] }, b: { dtype: "F32", shape: [1], data_offsets: [8, 12] } }, 12);
    expect(() => parseSafetensors(file, "hole.safetensors")).toThrow('hole.safetensors: tensor "b" starts at byte 8 of the data, but the tensors before it end at 4: the offsets leave a hole, and the header lies about them.');
  });

  it("refuses overlapping tensors", () => {
    const file = fileWith({ a: { dtype: "F32", shape: [2], data_offsets: [0, 8] }, b: { dtype: "F32", shape: [1], data_offsets: [4, 8] } }, 8);
    expect(() => parseSafetensors(file, "o.safetensors")).toThrow(/o\.safetensors: tensor "b" starts at byte 4 .* the offsets overlap/);
  });

  it("refuses offsets past the end of the data (a truncated file)", () => {
    const file = fileWith({ a: { dtype: "F32", shape: [4], data_offsets: [0, 16] } }, 10);
    expect(() => parseSafetensors(file, "t.safetensors")).toThrow("t.safetensors: the header's tensors cover 16 bytes of data, the file holds 10; the file is truncated or its header lies about its offsets.");
  });

  it("refuses a byte span that does not fit the dtype and shape", () => {
    const file = fileWith({ a: { dtype: "F32", shape: [2, 2], data_offsets: [0, 12] } }, 12);
    expect(() => parseSafetensors(file, "s.safetensors")).toThrow('s.safetensors: tensor "a" (F32 [2,2]) needs 16 bytes, its data_offsets [0,12] span 12.');
  });

  it("refuses a header length beyond the file, a header that is not JSON, and dtypes other than F32 and I64", () => {
    const long = fileWith({}, 0);
    new DataView(long.buffer).setBigUint64(0, 1000n, true);
    expect(() => parseSafetensors(long, "l.safetensors")).toThrow("l.safetensors: the header claims 1000 bytes but the file has 2 after the length");
    const garbage = fileWith({}, 0);
    garbage[8] = 0x5b; // "[" makes "[}"
    expect(() => parseSafetensors(garbage, "g.safetensors")).toThrow(/^g\.safetensors: the header is not valid UTF-8 JSON/);
    const half = fileWith({ a: { dtype: "F16", shape: [1], data_offsets: [0, 2] } }, 2);
    expect(() => parseSafetensors(half, "h.safetensors")).toThrow('h.safetensors: tensor "a" has dtype F16; this project reads F32 (and I64 counters)');
  });
});
