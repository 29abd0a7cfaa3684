import { deepEqual, equal, match } from "node:assert/strict";
import { journalMatchFor, mapFilter, parseFilterSpec } from "./_filters.ts";

Deno.test("parseFilterSpec() splits a name from [key=value, …] options, quoted or not", () => {
  const s = parseFilterSpec(`sshd[mode=aggressive, publickey="any, really", x='y']`);
  equal(s?.name, "sshd");
  deepEqual(Object.fromEntries(s!.options), {
    mode: "aggressive",
    publickey: "any, really",
    x: "y",
  });
  deepEqual(parseFilterSpec("  postfix ")?.options.size, 0);
  equal(parseFilterSpec("sshd[mode]"), null);
  equal(parseFilterSpec("two words"), null);
});

Deno.test("mapFilter() maps each fail2ban mode to the built-in's mode of the same name", () => {
  const m = (t: string) => mapFilter(parseFilterSpec(t)!);
  deepEqual(m("sshd[mode=normal]"), { kind: "filter", filter: "sshd", mode: "normal", notes: [] });
  for (
    const [f, mode] of [
      ["sshd", "extra"],
      ["sshd", "ddos"],
      ["postfix", "more"],
      ["postfix", "rbl"],
      ["postfix", "errors"],
      ["nginx-http-auth", "fallback"],
    ]
  ) {
    deepEqual(m(`${f}[mode=${mode}]`), { kind: "filter", filter: f, mode, notes: [] });
  }
  const auth = m("postfix[mode=auth]");
  equal(auth.kind === "filter" && auth.mode, "auth");
  const sasl = m("postfix-sasl");
  deepEqual(sasl.kind === "filter" && [sasl.filter, sasl.mode], ["postfix", "auth"]);
  const dovecot = m("dovecot");
  equal(dovecot.kind === "filter" && dovecot.mode, "normal");
});

Deno.test("mapFilter() sends recidive to the bans source and refuses unknown filters and modes", () => {
  equal(mapFilter(parseFilterSpec("recidive")!).kind, "bans");
  const unknown = mapFilter(parseFilterSpec("apache-badbots")!);
  equal(unknown.kind, "none");
  match(
    unknown.kind === "none" ? unknown.reason : "",
    /no fail2zig built-in.*\[filters\.apache-badbots\]/,
  );
  const mode = mapFilter(parseFilterSpec("sshd[mode=paranoid]")!);
  match(
    mode.kind === "none" ? mode.reason : "",
    /mode "paranoid" of filter sshd has no fail2zig equivalent/,
  );
});

Deno.test("mapFilter() warns about filter options a built-in cannot honour", () => {
  const r = mapFilter(parseFilterSpec("sshd[mode=normal, publickey=any]")!);
  match(r.kind === "filter" ? r.notes[0]!.text : "", /option publickey=any not imported/);
});

Deno.test("journalMatchFor() keeps an expressible journalmatch and adds the service's known units", () => {
  deepEqual(
    journalMatchFor("postfix", { text: "_SYSTEMD_UNIT=postfix.service", from: "filter" })?.match,
    [
      "_SYSTEMD_UNIT=postfix.service",
      "_SYSTEMD_UNIT=postfix@-.service",
    ],
  );
  // An AND of different fields is expressible as is; a jail's own match is taken literally.
  deepEqual(
    journalMatchFor("sshd", { text: "_SYSTEMD_UNIT=ssh.service PRIORITY=5", from: "jail" })?.match,
    ["_SYSTEMD_UNIT=ssh.service", "PRIORITY=5"],
  );
  // Alternatives of one field are OR-ed by fail2zig too.
  deepEqual(
    journalMatchFor("vsftpd", {
      text: "_SYSTEMD_UNIT=a.service + _SYSTEMD_UNIT=b.service",
      from: "jail",
    })
      ?.match,
    ["_SYSTEMD_UNIT=a.service", "_SYSTEMD_UNIT=b.service"],
  );
});

Deno.test("journalMatchFor() drops alternatives over different fields, keeping the units, with a note", () => {
  const r = journalMatchFor("sshd", {
    text: "_SYSTEMD_UNIT=sshd.service + _COMM=sshd",
    from: "filter",
  });
  deepEqual(r?.match, ["_SYSTEMD_UNIT=sshd.service", "_SYSTEMD_UNIT=ssh.service"]);
  match(r!.notes[0]!.text, /cannot OR different fields; dropped _COMM=sshd/);
  const noUnit = journalMatchFor("x", { text: "SYSLOG_IDENTIFIER=a + _COMM=b", from: "jail" });
  deepEqual(noUnit?.match, ["SYSLOG_IDENTIFIER=a"]);
});

Deno.test("journalMatchFor() falls back to known units, and gives up without any", () => {
  deepEqual(journalMatchFor("sshd", undefined)?.match, [
    "_SYSTEMD_UNIT=ssh.service",
    "_SYSTEMD_UNIT=sshd.service",
  ]);
  deepEqual(journalMatchFor("dovecot", { text: "", from: "filter" })?.match, [
    "_SYSTEMD_UNIT=dovecot.service",
  ]);
  equal(journalMatchFor("myapp", undefined), null);
  const bad = journalMatchFor("nginx-http-auth", { text: "_SYSTEMD_UNIT=<unit>", from: "filter" });
  deepEqual(bad?.match, ["_SYSTEMD_UNIT=nginx.service"]);
});
