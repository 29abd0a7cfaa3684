import { equal } from "node:assert/strict";
import { socketPathOf } from "./socket_path.ts";

Deno.test("socketPathOf() takes socket_path from a config whose other keys do not validate", () => {
  const text = `[global]\nsocket_path = "/srv/f2z.sock"\nmemory_ceiling_mb = 1\n\n[jails.sshd]\n` +
    `filter = "no-such-filter"\nbantme = "1h"\n`;
  equal(socketPathOf(text), "/srv/f2z.sock");
});

Deno.test("socketPathOf() finds socket_path in [global] of text that is not valid TOML", () => {
  const text = `[global]\nsocket_path = '/srv/literal.sock'  # here\nfirewall = "auto\n\n` +
    `[jails.sshd]\nsocket_path = "/not/this/one"\nfilter = = "sshd"\n`;
  equal(socketPathOf(text), "/srv/literal.sock");
});

Deno.test("socketPathOf() is null when the config names no usable socket path", () => {
  equal(socketPathOf(""), null);
  equal(socketPathOf(`[global]\nsocket_pth = "/srv/typo.sock"\n`), null);
  equal(socketPathOf(`[global]\nsocket_path = "relative.sock"\n`), null);
  equal(socketPathOf(`[global]\nsocket_path = 5\n`), null);
  equal(socketPathOf(`[global]\nsocket_path = "/${"x".repeat(107)}"\n`), null);
  equal(socketPathOf(`[jails.sshd]\nsocket_path = "/srv/jail.sock"\nbroken = \n`), null);
});
