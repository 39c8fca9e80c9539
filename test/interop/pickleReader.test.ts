/**
 * The pickle reader against pickles Python's own pickle module writes (protocols 2, 4 and 5):
 * every value kind a state_dict uses decodes to the same values; globals go through the hook
 * only; opcodes outside the subset, truncated pickles and BUILD without a hook are refused.
 */
import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { type PickleHooks, readPickle } from "../../src/lib/interop/pickleReader";

/** Python's pickle of the expression `source` at `protocol`, as bytes. */
function pythonPickle(source: string, protocol: number): Uint8Array {
  const hex = execFileSync("python3", ["-c", `import pickle, collections, sys; sys.stdout.write(pickle.dumps(${source}, ${protocol}).hex())`], { encoding: "utf8" });
  return Uint8Array.from(Buffer.from(hex, "hex"));
}

const refuseAll: PickleHooks = {
  resolveGlobal: (module, name) => {
    throw new Error(`refused ${module}.${name}`);
  },
  persistentLoad: () => {
    throw new Error("no persistent ids");
  },
};

describe("readPickle", () => {
  // Protocol 2 pickles bytes as a call to _codecs.encode: bytes are checked from protocol 4 on.
  const plain = (protocol: number) =>
    `{"s": "héllo", "i": [0, 255, 256, 65535, 65536, -1, -2**31, 2**40, -2**63, 2**70], "f": [0.5, -1e-300], "t": (1, (2, 3), ()), "b": [True, False, None], "d": {1: "one"}${protocol > 2 ? ', "by": b"\\x00\\x01"' : ""}}`;

  for (const protocol of [2, 4, 5]) {
    it(`decodes numbers, strings, tuples, lists, dicts (and bytes) of protocol ${protocol}`, () => {
      const value = readPickle(pythonPickle(plain(protocol), protocol), "plain.pkl", refuseAll) as Map<string, unknown>;
      expect(value).toBeInstanceOf(Map);
      expect(value.get("s")).toBe("héllo");
      expect(value.get("i")).toEqual([0, 255, 256, 65535, 65536, -1, -(2 ** 31), 2 ** 40, -(2n ** 63n), 2n ** 70n]);
      expect(value.get("f")).toEqual([0.5, -1e-300]);
      expect(value.get("t")).toEqual([1, [2, 3], []]);
      expect(value.get("b")).toEqual([true, false, null]);
      if (protocol > 2) expect(Array.from(value.get("by") as Uint8Array)).toEqual([0, 1]);
      expect((value.get("d") as Map<number, string>).get(1)).toBe("one");
    });
  }

  it("shares memoised objects as Python does", () => {
    const value = readPickle(pythonPickle("(lambda x: [x, x])([1, 2])", 2), "memo.pkl", refuseAll) as unknown[][];
    expect(value[0]).toBe(value[1]);
  });

  it("hands every global to the hook and calls what it returns with REDUCE's arguments", () => {
    const seen: string[] = [];
    const value = readPickle(pythonPickle("collections.OrderedDict([('a', 1)])", 4), "od.pkl", {
      ...refuseAll,
      resolveGlobal: (module, name) => (seen.push(`${module}.${name}`), () => new Map()),
    }) as Map<string, number>;
    expect(seen).toEqual(["collections.OrderedDict"]);
    expect([...value]).toEqual([["a", 1]]);
  });

  it("refuses a global the hook refuses, before anything is built", () => {
    expect(() => readPickle(pythonPickle("collections.Counter()", 2), "c.pkl", refuseAll)).toThrow("refused collections.Counter");
  });

  it("refuses an opcode outside the state_dict subset, naming it and where", () => {
    expect(() => readPickle(pythonPickle("{1}", 4), "set.pkl", refuseAll)).toThrow("set.pkl: opcode 0x8f is not one a PyTorch state_dict uses; this reader refuses it (pickle byte 11).");
  });

  it("refuses a truncated pickle", () => {
    const bytes = pythonPickle('"a long enough string"', 2);
    expect(() => readPickle(bytes.subarray(0, 10), "cut.pkl", refuseAll)).toThrow(/^cut\.pkl: the pickle ends early/);
  });

  it("refuses BUILD when the caller allows none", () => {
    // PROTO 2, EMPTY_DICT, EMPTY_DICT, BUILD, STOP
    expect(() => readPickle(new Uint8Array([0x80, 2, 0x7d, 0x7d, 0x62, 0x2e]), "b.pkl", refuseAll)).toThrow("b.pkl: BUILD (setting an object's state) is not allowed here");
  });
});
