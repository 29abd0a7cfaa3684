/**
 * Syscall numbers per architecture. Only x86_64 has a table so far: on any other architecture the
 * daemon installs no filter (`log`: a warning; `enforce`: the start fails, docs/seccomp.md).
 * @module
 */

/** What a filter needs to know of an architecture. */
export interface ArchTable {
  /** `AUDIT_ARCH_*` the kernel reports in `seccomp_data.arch`. */
  readonly auditArch: number;
  /** Syscall numbers at or above this belong to another ABI on the same arch; null: none. */
  readonly abiBit: number | null;
  /** The number of a syscall; throws for a name the table lacks. */
  number(name: string): number;
}

/** `AUDIT_ARCH_X86_64`: `EM_X86_64 | __AUDIT_ARCH_64BIT | __AUDIT_ARCH_LE`. */
export const AUDIT_ARCH_X86_64 = 0xc000003e;
/** `__X32_SYSCALL_BIT`: x32 calls share the x86_64 arch value and set this bit. */
export const X32_SYSCALL_BIT = 0x40000000;

/** x86_64 numbers (asm/unistd_64.h) of every name the allow list and the self-check use. */
export const X86_64: Readonly<Record<string, number>> = {
  accept4: 288,
  access: 21,
  arch_prctl: 158,
  bind: 49,
  brk: 12,
  chdir: 80,
  chmod: 90,
  clock_nanosleep: 230,
  clone: 56,
  clone3: 435,
  close: 3,
  connect: 42,
  dup2: 33,
  epoll_create1: 291,
  epoll_ctl: 233,
  epoll_wait: 232,
  eventfd2: 290,
  execve: 59,
  execveat: 322,
  exit: 60,
  exit_group: 231,
  fchown: 93,
  fcntl: 72,
  fstat: 5,
  fstatfs: 138,
  fsync: 74,
  ftruncate: 77,
  futex: 202,
  getcwd: 79,
  getdents64: 217,
  getegid: 108,
  geteuid: 107,
  getgid: 104,
  getpeername: 52,
  getpid: 39,
  getppid: 110,
  getrandom: 318,
  getrusage: 98,
  getsockname: 51,
  getsockopt: 55,
  gettid: 186,
  getuid: 102,
  inotify_add_watch: 254,
  inotify_init1: 294,
  inotify_rm_watch: 255,
  ioctl: 16,
  kill: 62,
  listen: 50,
  lseek: 8,
  lstat: 6,
  madvise: 28,
  mkdir: 83,
  mmap: 9,
  mount: 165,
  mprotect: 10,
  mremap: 25,
  munmap: 11,
  newfstatat: 262,
  openat: 257,
  pidfd_open: 434,
  pipe2: 293,
  pkey_alloc: 330,
  poll: 7,
  ppoll: 271,
  prctl: 157,
  pread64: 17,
  prlimit64: 302,
  pselect6: 270,
  ptrace: 101,
  pwrite64: 18,
  read: 0,
  readlink: 89,
  readlinkat: 267,
  recvfrom: 45,
  recvmsg: 47,
  rename: 82,
  renameat2: 316,
  restart_syscall: 219,
  rmdir: 84,
  rseq: 334,
  rt_sigaction: 13,
  rt_sigprocmask: 14,
  rt_sigreturn: 15,
  sched_getaffinity: 204,
  sched_getparam: 143,
  sched_getscheduler: 145,
  sched_yield: 24,
  seccomp: 317,
  sendmmsg: 307,
  sendmsg: 46,
  sendto: 44,
  set_robust_list: 273,
  set_tid_address: 218,
  setsockopt: 54,
  shutdown: 48,
  sigaltstack: 131,
  socket: 41,
  socketpair: 53,
  stat: 4,
  statfs: 137,
  statx: 332,
  sysinfo: 99,
  umask: 95,
  uname: 63,
  unlink: 87,
  vfork: 58,
  wait4: 61,
  write: 1,
  writev: 20,
};

/** The table of `arch` (`Deno.build.arch`), or null when there is none. */
export function archTable(arch: string): ArchTable | null {
  if (arch !== "x86_64") return null;
  return {
    auditArch: AUDIT_ARCH_X86_64,
    abiBit: X32_SYSCALL_BIT,
    number: (name) => {
      const n = X86_64[name];
      if (n === undefined) throw new RangeError(`no x86_64 number for syscall ${name}`);
      return n;
    },
  };
}
