import assert from "node:assert/strict";
import { execRefusal, needsExec } from "./daemon.ts";
import { parseConfig } from "../src/config/mod.ts";

const FILE_JAIL = '[jails.sshd]\nfilter = "sshd"\nlogpath = "/var/log/auth.log"\n';
const JOURNAL_JAIL =
  '[jails.sshd]\nfilter = "sshd"\nsource = "journald"\njournal_match = ["_SYSTEMD_UNIT=ssh.service"]\n';
const EXEC_ACTION = '[actions.note]\ntype = "exec"\non_ban = ["/usr/bin/logger", "{ip}"]\n' +
  FILE_JAIL + 'actions = ["note"]\n';

Deno.test("needsExec: exec backends, journald jails and exec actions need execve; nothing else", () => {
  const file = parseConfig(FILE_JAIL, "c.toml");
  assert.equal(needsExec(file, "nftables"), false);
  assert.equal(needsExec(file, "log-only"), false);
  assert.equal(needsExec(file, "iptables"), true);
  assert.equal(needsExec(file, "ipset"), true);
  assert.equal(needsExec(parseConfig(JOURNAL_JAIL, "c.toml"), "nftables"), true);
  assert.equal(needsExec(parseConfig(EXEC_ACTION, "c.toml"), "nftables"), true);
});

Deno.test("execRefusal: a reload that adds programs is refused only where execve does not work", () => {
  for (const text of [JOURNAL_JAIL, EXEC_ACTION]) {
    const next = parseConfig(text, "c.toml");
    assert.match(execRefusal(false, next) ?? "", /seccomp filter .* refuses \(execve\); restart/);
    assert.equal(execRefusal(true, next), null);
  }
  assert.equal(execRefusal(false, parseConfig(FILE_JAIL, "c.toml")), null);
});
