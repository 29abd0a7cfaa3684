/** The daemon's syscall allow-list: BPF assembler, list, per-arch numbers, install. @module */
export { ALLOWED, allowList, EXEC_SYSCALLS } from "./allow.ts";
export { type ArchTable, archTable, AUDIT_ARCH_X86_64, X32_SYSCALL_BIT, X86_64 } from "./arch.ts";
export {
  buildFilter,
  encode,
  EPERM,
  type FilterSpec,
  type Insn,
  RET,
  run,
  type SeccompData,
} from "./bpf.ts";
export {
  installSeccomp,
  type ProbeName,
  type SeccompMode,
  type SeccompResult,
  selfCheck,
} from "./install.ts";
