/**
 * Target `config-toml`: config text through `parseConfig` (the TOML reader, then validation).
 * The config is written by root, but `fail2zig config check` and the importer's output feed it
 * text from elsewhere, and a reload reads it while the daemon runs. Fails when anything but
 * `ConfigError` is thrown, when an issue points outside the text (line past the last, a column past
 * the line's end + 1) or has no message, or when an accepted config is not deep-frozen.
 * @module
 */
import fc from "fast-check";
import { ConfigError, parseConfig } from "../../../src/config/mod.ts";
import { mutatedString } from "../_input.ts";
import { expect, type Target, withCorpus } from "../_target.ts";

const EXAMPLE = new URL("../../../fixtures/config/example.toml", import.meta.url);
let example: string | null = null;

const TABLES = [
  "[global]",
  "[defaults]",
  "[defaults.bantime_increment]",
  "[jails.sshd]",
  "[jails.web]",
  "[filters.myapp]",
  "[[jails]]",
  "[jails]",
  "[jails.sshd.x]",
];
const KEYS = [
  "audit_log",
  "audit_max_mb",
  "bantime",
  "enabled",
  "eviction",
  "factor",
  "filter",
  "findtime",
  "firewall",
  "formula",
  "ignore_patterns",
  "ignoreip",
  "ignoreself",
  "jitter",
  "journal_directory",
  "journal_match",
  "line_max_bytes",
  "log_level",
  "logpath",
  "max",
  "maxretry",
  "memory_ceiling_mb",
  "metrics_bind",
  "missing_logpath",
  "mode",
  "on_no_backend",
  "overall",
  "patterns",
  "prefix",
  "read_from",
  "save_interval",
  "socket_path",
  "source",
  "state_file",
  "ipv6_prefix",
  "x",
];
const VALUES = [
  '"10m"',
  '"1h30m"',
  '"permanent"',
  '"0s"',
  "0",
  "-1",
  "5",
  "1e3",
  "1000000000000000000000",
  "true",
  '"sshd"',
  '"aggressive"',
  '["/var/log/auth.log"]',
  '"/var/log/*.log"',
  '"[::1]:9191"',
  '["127.0.0.0/8", "::1"]',
  '["<HOST> failed"]',
  '"^(a+)+$"',
  '"<HOST>"',
  "[]",
  "{}",
  '""',
  "nan",
  "inf",
  "1979-05-27",
  '"""\nx\n"""',
  "'lit'",
  '"\\u0000"',
  '"start"',
  '"file"',
  '"journald"',
  '"bans"',
  '["_SYSTEMD_UNIT=sshd.service"]',
];

const line = fc.oneof(
  fc.constantFrom(...TABLES),
  fc.tuple(
    fc.constantFrom(...KEYS),
    fc.oneof(fc.constantFrom(...VALUES), fc.string({ maxLength: 8 })),
  )
    .map(([k, v]) => `${k} = ${v}`),
  fc.constantFrom("", "# comment", "a.b = 1", "= 1", '"q" = 1'),
);
const assembled = fc.array(line, { maxLength: 24 }).map((ls) => ls.join("\n"));

function exampleText(): fc.Arbitrary<string> {
  example ??= Deno.readTextFileSync(EXAMPLE);
  return fc.constant(example);
}

function frozenDeep(v: unknown, seen = new Set<unknown>()): boolean {
  if (typeof v !== "object" || v === null || seen.has(v)) return true;
  seen.add(v);
  if (!Object.isFrozen(v)) return false;
  return Object.values(v).every((x) => frozenDeep(x, seen));
}

/** The `config-toml` target. */
export const configTomlTarget: Target<string> = {
  name: "config-toml",
  modules: [
    "src/config/parse.ts",
    "src/config/_validate.ts",
    "src/config/_locate.ts",
    "src/config/_bounds.ts",
    "src/config/_duration.ts",
  ],
  runs: 800,
  timeoutMs: 2000,
  arbitrary: (corpus) =>
    withCorpus(
      corpus,
      fc.oneof(assembled, mutatedString(exampleText(), 4), mutatedString(assembled)),
      (base) => mutatedString(base),
    ),
  check(text) {
    let config: unknown;
    try {
      config = parseConfig(text, "fuzz.toml");
    } catch (e) {
      expect(e instanceof ConfigError, () => `threw ${e instanceof Error ? e.stack : String(e)}`);
      const lines = text.split(/\r?\n/);
      for (const issue of e.errors) {
        expect(issue.message.length > 0, () => "an issue without message");
        expect(
          issue.line >= 0 && issue.line <= lines.length + 1 && issue.column >= 0,
          () => `issue at ${issue.line}:${issue.column} of a ${lines.length}-line text`,
        );
        const width = issue.line >= 1 ? [...(lines[issue.line - 1] ?? "")].length : 0;
        expect(
          issue.line === 0 || issue.column <= width + 1,
          () => `issue at column ${issue.column} of a ${width}-character line ${issue.line}`,
        );
      }
      return;
    }
    expect(frozenDeep(config), () => "an accepted config is not deep-frozen");
  },
};
