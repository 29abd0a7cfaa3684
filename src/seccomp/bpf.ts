/**
 * The seccomp filter as a classic BPF program (`struct sock_filter[]`, see seccomp(2)), built here
 * from the allow list: check the architecture, refuse x32 numbers, then compare the syscall
 * number with every allowed one. An allowed call returns `SECCOMP_RET_ALLOW`, anything else the
 * mode's action: `SECCOMP_RET_ERRNO | EPERM` under `enforce`, `SECCOMP_RET_LOG` under `log`.
 * @module
 */

/** `BPF_LD | BPF_W | BPF_ABS`: load the 32-bit word at offset `k` of `struct seccomp_data`. */
export const LD_W_ABS = 0x20;
/** `BPF_JMP | BPF_JEQ | BPF_K`: jump `jt` if the accumulator equals `k`, else `jf`. */
export const JEQ_K = 0x15;
/** `BPF_JMP | BPF_JGE | BPF_K`: jump `jt` if the accumulator is at least `k`, else `jf`. */
export const JGE_K = 0x35;
/** `BPF_JMP | BPF_JA`: jump `k` instructions forward. */
export const JA = 0x05;
/** `BPF_RET | BPF_K`: return `k`. */
export const RET_K = 0x06;

/** `struct seccomp_data` offsets: the syscall number and the audit architecture. */
export const DATA_NR = 0;
/** Offset of `arch` in `struct seccomp_data`. */
export const DATA_ARCH = 4;

/** Filter results (`SECCOMP_RET_*`). */
export const RET = {
  ALLOW: 0x7fff0000,
  LOG: 0x7ffc0000,
  ERRNO: 0x00050000,
} as const;

/** `EPERM`, the errno an `enforce` filter returns for an unlisted call. */
export const EPERM = 1;

/** The longest jump `jt`/`jf` can encode (8 bits). */
const MAX_JUMP = 255;
/** Comparisons per block: each block ends with its own `ret ALLOW`, so every jump fits. */
const BLOCK = 200;
/** The kernel's limit on a filter's length (`BPF_MAXINSNS`). */
export const MAX_INSNS = 4096;

/** One `struct sock_filter`: opcode, jump offsets if true and if false, operand. */
export interface Insn {
  /** Opcode (`BPF_LD | BPF_W | BPF_ABS`, …). */
  readonly code: number;
  /** Instructions skipped when the condition holds. */
  readonly jt: number;
  /** Instructions skipped when it does not. */
  readonly jf: number;
  /** Operand: offset, constant or return value. */
  readonly k: number;
}

/** An instruction without jumps. */
export function stmt(code: number, k: number): Insn {
  return { code, jt: 0, jf: 0, k: k >>> 0 };
}

/** A conditional jump; the offsets count instructions after this one. */
export function jump(code: number, k: number, jt: number, jf: number): Insn {
  if (jt < 0 || jt > MAX_JUMP || jf < 0 || jf > MAX_JUMP) {
    throw new RangeError(`BPF jump out of range: jt ${jt}, jf ${jf}`);
  }
  return { code, jt, jf, k: k >>> 0 };
}

/** What a filter is built from. */
export interface FilterSpec {
  /** `AUDIT_ARCH_*` the syscall numbers belong to; any other architecture gets `otherwise`. */
  readonly arch: number;
  /** Numbers at or above this are another ABI (x32's `__X32_SYSCALL_BIT`); null: none. */
  readonly abiBit: number | null;
  /** Syscall numbers allowed. */
  readonly allowed: readonly number[];
  /** The result of every other call (`RET.LOG`, `RET.ERRNO | EPERM`). */
  readonly otherwise: number;
}

/**
 * The filter program: architecture check, ABI check, then blocks of at most {@link BLOCK}
 * comparisons, each followed by a jump to the next block and a `ret ALLOW` its comparisons jump
 * to; the last block falls through to `ret otherwise`.
 */
export function buildFilter(spec: FilterSpec): Insn[] {
  const allowed = [...new Set(spec.allowed)].sort((a, b) => a - b);
  const prog: Insn[] = [
    stmt(LD_W_ABS, DATA_ARCH),
    jump(JEQ_K, spec.arch, 1, 0),
    stmt(RET_K, spec.otherwise),
    stmt(LD_W_ABS, DATA_NR),
  ];
  if (spec.abiBit !== null) {
    prog.push(jump(JGE_K, spec.abiBit, 0, 1), stmt(RET_K, spec.otherwise));
  }
  for (let at = 0; at < allowed.length; at += BLOCK) {
    const block = allowed.slice(at, at + BLOCK);
    const last = at + BLOCK >= allowed.length;
    // after the comparisons: `ja next` (or `ret otherwise` for the last block), then `ret ALLOW`
    block.forEach((nr, i) => prog.push(jump(JEQ_K, nr, block.length - i, 0)));
    prog.push(last ? stmt(RET_K, spec.otherwise) : stmt(JA, 1), stmt(RET_K, RET.ALLOW));
  }
  if (allowed.length === 0) prog.push(stmt(RET_K, spec.otherwise));
  if (prog.length > MAX_INSNS) throw new RangeError(`filter too long: ${prog.length} insns`);
  return prog;
}

/** The program as `struct sock_filter` bytes (little-endian, 8 bytes each). */
export function encode(prog: readonly Insn[]): Uint8Array {
  const out = new Uint8Array(prog.length * 8);
  const v = new DataView(out.buffer);
  prog.forEach((p, i) => {
    v.setUint16(i * 8, p.code, true);
    v.setUint8(i * 8 + 2, p.jt);
    v.setUint8(i * 8 + 3, p.jf);
    v.setUint32(i * 8 + 4, p.k, true);
  });
  return out;
}

/** The seccomp data a program is run on. */
export interface SeccompData {
  /** Syscall number. */
  readonly nr: number;
  /** `AUDIT_ARCH_*` of the calling convention. */
  readonly arch: number;
}

/**
 * Runs a program the way the kernel does, for the instructions this module emits (the tests
 * check every path of a built filter with it).
 */
export function run(prog: readonly Insn[], data: SeccompData): number {
  let acc = 0;
  for (let pc = 0; pc < prog.length; pc++) {
    const p = prog[pc]!;
    switch (p.code) {
      case LD_W_ABS:
        if (p.k === DATA_NR) acc = data.nr >>> 0;
        else if (p.k === DATA_ARCH) acc = data.arch >>> 0;
        else throw new RangeError(`load of offset ${p.k} not modelled`);
        break;
      case JEQ_K:
        pc += acc === p.k ? p.jt : p.jf;
        break;
      case JGE_K:
        pc += acc >= p.k ? p.jt : p.jf;
        break;
      case JA:
        pc += p.k;
        break;
      case RET_K:
        return p.k;
      default:
        throw new RangeError(`opcode ${p.code} not modelled`);
    }
  }
  throw new RangeError("program fell off its end");
}
