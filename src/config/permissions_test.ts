import { deepEqual, equal, ok } from "node:assert/strict";
import { checkConfigDirPermissions, checkConfigPermissions } from "./mod.ts";

const P = "/etc/fail2zig/config.toml";
const messages = (mode: number, uid: number, gid: number, root: boolean) =>
  checkConfigPermissions(P, { mode: 0o100000 | mode, uid, gid }, root).map((i) => i.message);

Deno.test("checkConfigPermissions() accepts 0644 and 0664 root:root when running as root", () => {
  deepEqual(messages(0o644, 0, 0, true), []);
  deepEqual(messages(0o664, 0, 0, true), []);
  deepEqual(messages(0o600, 0, 0, true), []);
});

Deno.test("checkConfigPermissions() refuses a world-writable config, naming the file and the fix", () => {
  deepEqual(messages(0o666, 0, 0, true), [
    "refusing a world-writable config (mode 0666): any local user could disable jails or unban addresses; fix: chmod o-w /etc/fail2zig/config.toml",
  ]);
  // Also when not running as root.
  equal(messages(0o602, 1000, 1000, false).length, 1);
});

Deno.test("checkConfigPermissions() refuses a config group-writable by a non-root group", () => {
  deepEqual(messages(0o664, 0, 4, true), [
    "refusing a config writable by group 4 (mode 0664): members of that group could disable jails or unban addresses; fix: chmod g-w /etc/fail2zig/config.toml (or chown root:root /etc/fail2zig/config.toml)",
  ]);
});

Deno.test("checkConfigPermissions() refuses a config not owned by root when running as root", () => {
  deepEqual(messages(0o644, 1000, 0, true), [
    "refusing a config owned by uid 1000 while running as root: that user could disable jails or unban addresses; fix: chown root:root /etc/fail2zig/config.toml",
  ]);
});

Deno.test("checkConfigPermissions() reports every problem and only whole-file positions", () => {
  const issues = checkConfigPermissions(P, { mode: 0o666, uid: 1000, gid: 1000 }, true);
  equal(issues.length, 3);
  ok(issues.every((i) => i.path === P && i.line === 0 && i.column === 0));
});

Deno.test("checkConfigPermissions() leaves owner and group to an unprivileged process", () => {
  deepEqual(messages(0o664, 1000, 1000, false), []);
});

Deno.test("checkConfigDirPermissions() refuses a directory others may write, unless it is root-owned and sticky", () => {
  const dir = (mode: number, uid: number, gid: number, root: boolean) =>
    checkConfigDirPermissions(P, "/etc/fail2zig", { mode: 0o040000 | mode, uid, gid }, root)
      .map((i) => i.message);
  deepEqual(dir(0o755, 0, 0, true), []);
  deepEqual(dir(0o775, 0, 0, true), []);
  deepEqual(dir(0o777, 0, 0, true), [
    "refusing a config in a world-writable directory /etc/fail2zig (mode 0777, not sticky and root-owned): any local user could replace it; fix: chmod o-w /etc/fail2zig",
  ]);
  equal(dir(0o777, 1000, 1000, false).length, 1, "also when not running as root");
  deepEqual(dir(0o1777, 0, 0, true), [], "/tmp-like: only an entry's owner may replace it");
  equal(dir(0o1777, 1000, 0, true).length, 2, "sticky but owned by a user: that user may");
  deepEqual(dir(0o775, 0, 4, true), [
    "refusing a config in directory /etc/fail2zig, writable by group 4 (mode 0775): members of that group could replace it; fix: chmod g-w /etc/fail2zig",
  ]);
  deepEqual(dir(0o755, 1000, 0, true), [
    "refusing a config in directory /etc/fail2zig, owned by uid 1000 while running as root: that user could replace it; fix: chown root /etc/fail2zig",
  ]);
  deepEqual(
    dir(0o775, 1000, 1000, false),
    [],
    "owner and group are left to an unprivileged process",
  );
  ok(checkConfigDirPermissions(P, "/x", { mode: 0o40777, uid: 0, gid: 0 }, true)[0]!.line === 0);
});
