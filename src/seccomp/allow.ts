/**
 * The daemon's syscall allow list, by name (numbers per architecture in arch.ts). Derived from
 * `strace -f -c` of every daemon the test suite starts (scripts/seccomp_trace.ts prints the union
 * and what it lacks); each entry's reason is in docs/seccomp.md, and packaging/fail2zig.service's
 * `SystemCallFilter=` lists the same names (tests compare all three).
 * @module
 */

/**
 * Allowed whatever the config: the union of the traces (start-up included, so a few calls made
 * only before the filter are in it), plus what strace cannot count because it never returns
 * (`exit`, `exit_group`) or only the kernel issues (`restart_syscall`).
 */
export const ALLOWED: readonly string[] = [
  "accept4",
  "access",
  "arch_prctl",
  "bind",
  "brk",
  "chdir",
  "chmod",
  "clock_nanosleep",
  "clone3",
  "close",
  "connect",
  "dup2",
  "epoll_create1",
  "epoll_ctl",
  "epoll_wait",
  "eventfd2",
  "exit",
  "exit_group",
  "fchown",
  "fcntl",
  "fstat",
  "fstatfs",
  "fsync",
  "ftruncate",
  "futex",
  "getcwd",
  "getdents64",
  "geteuid",
  "getgid",
  "getpeername",
  "getpid",
  "getppid",
  "getrandom",
  "getrusage",
  "getsockname",
  "getsockopt",
  "gettid",
  "getuid",
  "inotify_add_watch",
  "inotify_init1",
  "inotify_rm_watch",
  "ioctl",
  "kill",
  "listen",
  "lseek",
  "lstat",
  "madvise",
  "mkdir",
  "mmap",
  "mprotect",
  "mremap",
  "munmap",
  "newfstatat",
  "openat",
  "pidfd_open",
  "pipe2",
  "pkey_alloc",
  "poll",
  "ppoll",
  "prctl",
  "pread64",
  "prlimit64",
  "pselect6",
  "pwrite64",
  "read",
  "readlink",
  "readlinkat",
  "recvfrom",
  "recvmsg",
  "rename",
  "restart_syscall",
  "rmdir",
  "rseq",
  "rt_sigaction",
  "rt_sigprocmask",
  "rt_sigreturn",
  "sched_getaffinity",
  "sched_getparam",
  "sched_getscheduler",
  "sched_yield",
  "seccomp",
  "sendmmsg",
  "sendmsg",
  "sendto",
  "set_robust_list",
  "set_tid_address",
  "setsockopt",
  "shutdown",
  "sigaltstack",
  "socket",
  "socketpair",
  "stat",
  "statfs",
  "statx",
  "sysinfo",
  "umask",
  "uname",
  "unlink",
  "wait4",
  "write",
  "writev",
];

/**
 * Replacing a process image: allowed only when the config runs programs (iptables, ip6tables,
 * ipset, journalctl). A filter cannot look at the path, so it is all or nothing.
 */
export const EXEC_SYSCALLS: readonly string[] = ["execve", "execveat"];

/** The names allowed, with `execve`/`execveat` when `exec`. */
export function allowList(exec: boolean): readonly string[] {
  return exec ? [...ALLOWED, ...EXEC_SYSCALLS].sort() : ALLOWED;
}
