import { deepEqual, equal, match } from "node:assert/strict";
import { parseConfig } from "../config/mod.ts";
import { IniTree, parseIni } from "./_ini.ts";
import { firewallFor, logLevelFor, translateGlobal } from "./_global.ts";
import { importFail2ban } from "./import.ts";
import { memoryFileReader } from "./fs.ts";

function tree(...texts: string[]): IniTree {
  const t = new IniTree();
  texts.forEach((text, i) => t.merge(parseIni(text, `f${i}`)));
  return t;
}

Deno.test("logLevelFor() maps fail2ban's level names and Python's numbers to log_level", () => {
  const names = ["CRITICAL", "ERROR", "WARNING", "NOTICE", "INFO", "DEBUG", "HEAVYDEBUG", "info"];
  deepEqual(names.map(logLevelFor), [
    "error",
    "error",
    "warn",
    "warn",
    "info",
    "debug",
    "debug",
    "info",
  ]);
  deepEqual(["50", "30", "20", "10", "5"].map(logLevelFor), [
    "error",
    "warn",
    "info",
    "debug",
    "debug",
  ]);
  equal(logLevelFor("LOUD"), null);
});

Deno.test("firewallFor() keeps an nftables or ipset banaction; iptables and the rest are auto", () => {
  deepEqual(
    [
      "nftables",
      "nftables-multiport",
      "nftables[type=allports]",
      "iptables-ipset-proto6",
      "iptables-ipset-proto6-allports",
      "iptables-multiport",
      "ufw",
      "firewallcmd-rich-rules",
      "nftablesx",
    ].map(firewallFor),
    ["nftables", "nftables", "nftables", "ipset", "ipset", null, null, null, null],
  );
});

Deno.test("translateGlobal(): fail2ban.local's [Definition] wins over fail2ban.conf's [DEFAULT]; the banaction picks the firewall", () => {
  const server = tree(
    "[DEFAULT]\nloglevel = INFO\nsocket = /run/f2b.sock\ndbfile = :memory:\n[Definition]\n",
    "[Definition]\nloglevel = DEBUG\n",
  );
  const g = translateGlobal(server, tree("[DEFAULT]\nbanaction = nftables-multiport\n"));
  deepEqual(g.pairs, [["log_level", '"debug"'], ["firewall", '"nftables"']]);
  deepEqual(g.notes.map((n) => n.level), ["info", "info"]);
  match(g.notes[0]!.text, /log_level = "debug" logs the lines' content/);
  match(g.notes[1]!.text, /^socket = \/run\/f2b\.sock: fail2zig's control socket is socket_path/);
  // A banaction fail2zig cannot honour is a warning; a level it does not know leaves the default.
  const odd = translateGlobal(
    tree("[Definition]\nloglevel = LOUD\n"),
    tree("[DEFAULT]\nbanaction = ufw\n"),
  );
  deepEqual(odd.pairs, []);
  deepEqual(odd.notes.map((n) => n.level), ["warn", "warn"]);
  match(odd.notes[1]!.text, /^banaction = ufw has no fail2zig backend/);
});

Deno.test("import-fail2ban writes [global] from fail2ban.conf and the banaction; the result validates", async () => {
  const reader = memoryFileReader({
    "/f/jail.conf": "[DEFAULT]\nbanaction = iptables-ipset-proto6\n[sshd]\nenabled = true\n" +
      "logpath = /var/log/auth.log\n",
    "/f/fail2ban.conf": "[DEFAULT]\nloglevel = WARNING\n[Definition]\n",
  });
  const r = await importFail2ban("/f", { reader });
  match(r.toml, /^\[global\]\n(?:# .*\n)*log_level = "warn"\nfirewall = "ipset"\n/m);
  deepEqual(r.files, ["/f/fail2ban.conf", "/f/jail.conf"]);
  const config = parseConfig(r.toml, "imported.toml");
  deepEqual([config.global.logLevel, config.global.firewall], ["warn", "ipset"]);
  // Without fail2ban.conf or a banaction there is nothing to say: no [global].
  const bare = await importFail2ban("/g", {
    reader: memoryFileReader({ "/g/jail.conf": "[sshd]\nenabled = true\nlogpath = /l\n" }),
  });
  equal(/^\[global\]/m.test(bare.toml), false);
});
