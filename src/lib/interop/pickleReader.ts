/**
 * A reader of Python pickles that knows only the opcodes a PyTorch state_dict uses (protocols 2
 * to 5: numbers, strings, tuples, lists, dicts, the memo, GLOBAL/REDUCE/BUILD and persistent ids).
 * It never runs anything a pickle names: every GLOBAL is handed to `resolveGlobal`, which returns
 * a plain JavaScript stand-in or throws (the pth loader allows tensors, storages and OrderedDict).
 *
 * Values: None -> null, bool -> boolean, int -> number (bigint beyond 2^53), float -> number,
 * str -> string, bytes -> Uint8Array, tuple and list -> array, dict -> Map (insertion order kept).
 */

/** What a GLOBAL resolves to: a function that REDUCE may call with the pickled arguments, or a marker value. */
export type PickleGlobal = ((...args: unknown[]) => unknown) | object;

export interface PickleHooks {
  /** Returns the stand-in for `module.name`, or throws saying why it is refused. */
  resolveGlobal(module: string, name: string): PickleGlobal;
  /** The object a persistent id (BINPERSID) stands for: PyTorch's storages. */
  persistentLoad(pid: unknown): unknown;
  /** Applies BUILD's state to an object a REDUCE made (OrderedDict's _metadata); throws to refuse. */
  build?(target: unknown, state: unknown): void;
}

const MARK = Symbol("mark");

/** Opcode names, for errors that say which opcode a file used. */
const OPCODE_NAMES: Record<number, string> = {
  0x80: "PROTO", 0x95: "FRAME", 0x63: "GLOBAL", 0x93: "STACK_GLOBAL", 0x71: "BINPUT", 0x72: "LONG_BINPUT",
  0x94: "MEMOIZE", 0x68: "BINGET", 0x6a: "LONG_BINGET", 0x28: "MARK", 0x29: "EMPTY_TUPLE", 0x74: "TUPLE",
  0x85: "TUPLE1", 0x86: "TUPLE2", 0x87: "TUPLE3", 0x5d: "EMPTY_LIST", 0x61: "APPEND", 0x65: "APPENDS",
  0x7d: "EMPTY_DICT", 0x73: "SETITEM", 0x75: "SETITEMS", 0x52: "REDUCE", 0x62: "BUILD", 0x51: "BINPERSID",
  0x4b: "BININT1", 0x4d: "BININT2", 0x4a: "BININT", 0x8a: "LONG1", 0x58: "BINUNICODE", 0x8c: "SHORT_BINUNICODE",
  0x8d: "BINUNICODE8", 0x43: "SHORT_BINBYTES", 0x42: "BINBYTES", 0x4e: "NONE", 0x88: "NEWTRUE", 0x89: "NEWFALSE",
  0x47: "BINFLOAT", 0x2e: "STOP",
};

/** Little-endian two's-complement integer of LONG1's bytes. */
function decodeLong(bytes: Uint8Array): number | bigint {
  if (bytes.length === 0) return 0;
  let value = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) value = (value << 8n) | BigInt(bytes[i]);
  if (bytes[bytes.length - 1] & 0x80) value -= 1n << BigInt(8 * bytes.length);
  return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
}

/**
 * Unpickles `bytes` (`file` names it in errors) with `hooks` deciding every global and persistent
 * id; throws on an opcode outside the state_dict subset, a truncated pickle, or a refused global.
 */
export function readPickle(bytes: Uint8Array, file: string, hooks: PickleHooks): unknown {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const text = new TextDecoder("utf-8", { fatal: true });
  const stack: unknown[] = [];
  const memo = new Map<number, unknown>();
  let pos = 0;
  const fail = (what: string): never => {
    throw new Error(`${file}: ${what} (pickle byte ${pos}).`);
  };
  const take = (n: number): Uint8Array => {
    if (n < 0 || pos + n > bytes.length) fail(`the pickle ends early: ${n} bytes wanted, ${bytes.length - pos} left`);
    const out = bytes.subarray(pos, pos + n);
    pos += n;
    return out;
  };
  const u8 = () => take(1)[0];
  const u32 = () => (take(4), view.getUint32(pos - 4, true));
  const line = () => {
    const end = bytes.indexOf(0x0a, pos);
    if (end < 0) fail("a GLOBAL line has no end");
    return text.decode(take(end - pos + 1).subarray(0, -1));
  };
  const pop = () => (stack.length === 0 ? fail("the pickle pops an empty stack") : stack.pop());
  const popMark = (): unknown[] => {
    const at = stack.lastIndexOf(MARK);
    if (at < 0) fail("the pickle has no MARK to close");
    const items = stack.splice(at);
    return items.slice(1);
  };
  const top = () => (stack.length === 0 ? fail("the pickle reads an empty stack") : stack[stack.length - 1]);
  const asMap = (target: unknown): Map<unknown, unknown> => (target instanceof Map ? target : fail("SETITEM on something that is not a dict"));
  const asList = (target: unknown): unknown[] => (Array.isArray(target) ? target : fail("APPEND on something that is not a list"));
  const global = (module: string, name: string) => stack.push(hooks.resolveGlobal(module, name));

  for (;;) {
    const op = u8();
    switch (op) {
      case 0x80: u8(); break; // PROTO n
      case 0x95: take(8); break; // FRAME length: frames only group opcodes
      case 0x63: { const module = line(); global(module, line()); break; }
      case 0x93: { const name = pop(); global(String(pop()), String(name)); break; }
      case 0x71: memo.set(u8(), top()); break;
      case 0x72: memo.set(u32(), top()); break;
      case 0x94: memo.set(memo.size, top()); break;
      case 0x68: case 0x6a: {
        const key = op === 0x68 ? u8() : u32();
        if (!memo.has(key)) fail(`the pickle refers to memo entry ${key}, which it never stored`);
        stack.push(memo.get(key));
        break;
      }
      case 0x28: stack.push(MARK); break;
      case 0x29: stack.push([]); break;
      case 0x74: stack.push(popMark()); break;
      case 0x85: case 0x86: case 0x87: { const n = op - 0x84; stack.push(stack.splice(stack.length - n, n)); break; }
      case 0x5d: stack.push([]); break;
      case 0x61: { const item = pop(); asList(top()).push(item); break; }
      case 0x65: { const items = popMark(); asList(top()).push(...items); break; }
      case 0x7d: stack.push(new Map()); break;
      case 0x73: { const value = pop(); const key = pop(); asMap(top()).set(key, value); break; }
      case 0x75: {
        const items = popMark();
        const target = asMap(top());
        for (let i = 0; i + 1 < items.length; i += 2) target.set(items[i], items[i + 1]);
        break;
      }
      case 0x52: {
        const args = pop();
        const callable = pop();
        if (typeof callable !== "function" || !Array.isArray(args)) fail("REDUCE calls something that is not an allowed function");
        stack.push((callable as (...a: unknown[]) => unknown)(...(args as unknown[])));
        break;
      }
      case 0x62: {
        const state = pop();
        if (!hooks.build) fail("BUILD (setting an object's state) is not allowed here");
        hooks.build!(top(), state);
        break;
      }
      case 0x51: stack.push(hooks.persistentLoad(pop())); break;
      case 0x4b: stack.push(u8()); break;
      case 0x4d: take(2); stack.push(view.getUint16(pos - 2, true)); break;
      case 0x4a: take(4); stack.push(view.getInt32(pos - 4, true)); break;
      case 0x8a: stack.push(decodeLong(take(u8()))); break;
      case 0x58: stack.push(text.decode(take(u32()))); break;
      case 0x8c: stack.push(text.decode(take(u8()))); break;
      case 0x8d: { take(8); const n = Number(view.getBigUint64(pos - 8, true)); stack.push(text.decode(take(n))); break; }
      case 0x43: stack.push(take(u8()).slice()); break;
      case 0x42: stack.push(take(u32()).slice()); break;
      case 0x4e: stack.push(null); break;
      case 0x88: stack.push(true); break;
      case 0x89: stack.push(false); break;
      case 0x47: take(8); stack.push(view.getFloat64(pos - 8, false)); break;
      case 0x2e: {
        if (stack.length !== 1) fail(`STOP with ${stack.length} values on the stack, not 1`);
        return stack[0];
      }
      default:
        pos -= 1;
        fail(`opcode 0x${op.toString(16)}${OPCODE_NAMES[op] ? ` (${OPCODE_NAMES[op]})` : ""} is not one a PyTorch state_dict uses; this reader refuses it`);
    }
  }
}
