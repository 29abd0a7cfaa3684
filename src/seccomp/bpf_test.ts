import assert from "node:assert/strict";
import {
  ALLOWED,
  allowList,
  archTable,
  AUDIT_ARCH_X86_64,
  buildFilter,
  encode,
  EPERM,
  EXEC_SYSCALLS,
  RET,
  run,
  X32_SYSCALL_BIT,
  X86_64,
} from "./mod.ts";

const DENY = RET.ERRNO | EPERM;
const spec = (allowed: number[]) => ({
  arch: AUDIT_ARCH_X86_64,
  abiBit: X32_SYSCALL_BIT,
  allowed,
  otherwise: DENY,
});

Deno.test("a built filter allows exactly its numbers, on its architecture only", () => {
  const allowed = [0, 1, 3, 60, 231, 435];
  const prog = buildFilter(spec(allowed));
  for (let nr = 0; nr < 500; nr++) {
    const want = allowed.includes(nr) ? RET.ALLOW : DENY;
    assert.equal(run(prog, { nr, arch: AUDIT_ARCH_X86_64 }), want, `nr ${nr}`);
  }
  // i386 (int 0x80 from a 64-bit process) and x32 numbers mean other calls: refused
  assert.equal(run(prog, { nr: 1, arch: 0x40000003 }), DENY);
  assert.equal(run(prog, { nr: X32_SYSCALL_BIT | 1, arch: AUDIT_ARCH_X86_64 }), DENY);
  assert.equal(run(buildFilter(spec([])), { nr: 0, arch: AUDIT_ARCH_X86_64 }), DENY);
});

Deno.test("more numbers than one 8-bit jump reaches are split into blocks that all work", () => {
  const allowed = Array.from({ length: 600 }, (_, i) => i * 2);
  const prog = buildFilter({ ...spec(allowed), otherwise: RET.LOG });
  for (let nr = 0; nr < 1300; nr++) {
    const want = nr % 2 === 0 && nr < 1200 ? RET.ALLOW : RET.LOG;
    assert.equal(run(prog, { nr, arch: AUDIT_ARCH_X86_64 }), want, `nr ${nr}`);
  }
  assert.ok(prog.every((p) => p.jt <= 255 && p.jf <= 255));
});

Deno.test("encode lays instructions out as struct sock_filter (code u16, jt, jf, k u32; LE)", () => {
  const bytes = encode(buildFilter(spec([7])));
  const v = new DataView(bytes.buffer);
  assert.equal(bytes.length % 8, 0);
  assert.deepEqual([v.getUint16(0, true), v.getUint8(2), v.getUint8(3), v.getUint32(4, true)], [
    0x20,
    0,
    0,
    4,
  ]); // ld [arch]
  assert.equal(v.getUint32(12, true), AUDIT_ARCH_X86_64);
});

Deno.test("the allow list: sorted, no duplicates, exec calls only on request, none dangerous", () => {
  assert.deepEqual([...ALLOWED], [...new Set(ALLOWED)].sort());
  assert.ok(EXEC_SYSCALLS.every((s) => !ALLOWED.includes(s) && allowList(true).includes(s)));
  assert.deepEqual(allowList(false), ALLOWED);
  for (const s of ["ptrace", "mount", "umount2", "bpf", "init_module", "kexec_load", "unshare"]) {
    assert.ok(!allowList(true).includes(s), s);
  }
});

Deno.test("x86_64 numbers agree with the kernel's asm/unistd_64.h for every name used", async () => {
  const header = await Deno.readTextFile("/usr/include/x86_64-linux-gnu/asm/unistd_64.h");
  const nr = new Map([...header.matchAll(/#define __NR_(\w+) (\d+)/g)].map((m) => [m[1]!, +m[2]!]));
  for (const [name, n] of Object.entries(X86_64)) assert.equal(nr.get(name), n, name);
  const t = archTable("x86_64")!;
  for (const name of allowList(true)) assert.equal(t.number(name), nr.get(name), name);
  assert.equal(archTable("aarch64"), null);
});
