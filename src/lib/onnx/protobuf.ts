/**
 * Protocol Buffers wire encoding, by hand, for the few ONNX messages this library writes
 * (https://protobuf.dev/programming-guides/encoding/). A message is a sequence of fields, each a
 * key varint (field_number << 3 | wire_type) and its value:
 *   wire type 0 VARINT  int32, int64, enum: base-128, least significant group first; a negative
 *                       int64 is its 64-bit two's complement (10 bytes)
 *   wire type 2 LEN     bytes, strings, embedded messages: a varint length, then the bytes
 *   wire type 5 I32     float: 4 bytes, little-endian
 * onnx.proto is proto2, so repeated numbers are written unpacked (one key per element), its default.
 */

const WIRE_VARINT = 0;
const WIRE_LEN = 2;
const WIRE_I32 = 5;

const utf8 = new TextEncoder();

/** Appends fields to a growing byte buffer; `finish()` returns the message's bytes. */
export class ProtoWriter {
  private buffer = new Uint8Array(256);
  private length = 0;

  private reserve(extra: number): void {
    if (this.length + extra <= this.buffer.length) return;
    let size = this.buffer.length * 2;
    while (size < this.length + extra) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(this.buffer.subarray(0, this.length));
    this.buffer = grown;
  }

  private byte(value: number): void {
    this.reserve(1);
    this.buffer[this.length++] = value;
  }

  /** An unsigned varint of a non-negative safe integer, or of a negative int64 as two's complement. */
  private varint(value: number): void {
    if (!Number.isSafeInteger(value)) throw new Error(`Protobuf varint: ${value} is not a safe integer.`);
    if (value < 0) {
      let v = BigInt.asUintN(64, BigInt(value));
      while (v >= BigInt(0x80)) {
        this.byte(Number(v & BigInt(0x7f)) | 0x80);
        v >>= BigInt(7);
      }
      this.byte(Number(v));
      return;
    }
    let v = value;
    while (v >= 0x80) {
      this.byte((v % 0x80) | 0x80);
      v = Math.floor(v / 0x80);
    }
    this.byte(v);
  }

  private key(field: number, wireType: number): void {
    this.varint(field * 8 + wireType);
  }

  /** int32, int64 or enum field. */
  int(field: number, value: number): this {
    this.key(field, WIRE_VARINT);
    this.varint(value);
    return this;
  }

  /** float field (IEEE 754 single, little-endian). */
  float(field: number, value: number): this {
    this.key(field, WIRE_I32);
    this.reserve(4);
    new DataView(this.buffer.buffer, this.buffer.byteOffset + this.length, 4).setFloat32(0, value, true);
    this.length += 4;
    return this;
  }

  /** bytes field, or an embedded message already encoded. */
  bytes(field: number, value: Uint8Array): this {
    this.key(field, WIRE_LEN);
    this.varint(value.length);
    this.reserve(value.length);
    this.buffer.set(value, this.length);
    this.length += value.length;
    return this;
  }

  /** string field (UTF-8). */
  string(field: number, value: string): this {
    return this.bytes(field, utf8.encode(value));
  }

  /** Embedded message field, written by `write` into a fresh writer. */
  message(field: number, write: (writer: ProtoWriter) => void): this {
    const inner = new ProtoWriter();
    write(inner);
    return this.bytes(field, inner.finish());
  }

  finish(): Uint8Array {
    return this.buffer.slice(0, this.length);
  }
}
