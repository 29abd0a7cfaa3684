/**
 * Generates what `scripts/install.sh` installs besides the program, from the program's own
 * sources so that nothing drifts: fail2zig(8) from every command's `--help` text and the command
 * list of `mod.ts`; fail2zig.toml(5) from the config table of docs/interfaces.md, checked key by
 * key against the validator (`CONFIG_KEYS`); the bash, zsh and fish completions from the same
 * command lists (`completionModel`);
 * the checkout wrapper with the daemon's V8 flags; the unit's MemoryMax drop-in.
 *
 *   gen_packaging.ts man OUTDIR           fail2zig.8 and fail2zig.toml.5 into OUTDIR
 *   gen_packaging.ts completion DIR       fail2zig.bash, _fail2zig (zsh), fail2zig.fish into DIR
 *   gen_packaging.ts wrapper FILE         /usr/…/bin/fail2zig for a checkout install
 *   gen_packaging.ts memory-max CONFIG    prints MemoryMax for the config's memory_ceiling_mb
 * @module
 */
import { COMMANDS, USAGE as TOP_USAGE } from "../mod.ts";
import { VERSION } from "../cli/_cli.ts";
import { CLIENT_COMMANDS } from "../cli/client.ts";
import { CONFIG_KEYS, GLOBAL_DEFAULTS, parseConfig } from "../src/config/mod.ts";
import { DAEMON_V8_FLAGS } from "../src/daemon/mod.ts";

/** MiB the unit allows above `memory_ceiling_mb` (systemd counts page cache the daemon does not). */
export const MEMORY_MAX_MARGIN_MB = 32;

const DOCS = new URL("../docs/interfaces.md", import.meta.url);

/** Escapes text for roff: backslashes, leading dots and quotes, dashes, non-ASCII (`\[uXXXX]`). */
function roff(text: string): string {
  return text.replace(/\\/g, "\\e").replace(/-/g, "\\-").replace(/^([.'])/gm, "\\&$1")
    .replace(
      /[^ -~\t\n]/gu,
      (c) => `\\[u${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}]`,
    );
}

/** Markdown inline text (code spans, escaped pipes) as roff. */
function inline(md: string): string {
  return roff(md.replace(/\\\|/g, "|")).replace(/`([^`]*)`/g, "\\fB$1\\fR");
}

/** The rows of the first markdown table after the heading `heading` of docs/interfaces.md. */
function docsTable(docs: string, heading: string): string[][] {
  const at = docs.indexOf(`\n${heading}\n`);
  if (at < 0) throw new Error(`docs/interfaces.md has no heading ${heading}`);
  const rows: string[][] = [];
  let inTable = false;
  for (const line of docs.slice(at + heading.length + 2).split("\n")) {
    if (!line.startsWith("|")) {
      if (inTable) break;
      continue;
    }
    inTable = true;
    const cells = line.slice(1, -1).split(/(?<!\\)\|/).map((c) => c.trim());
    if (cells.every((c) => /^-+$/.test(c))) continue;
    rows.push(cells);
  }
  return rows.slice(1); // without the header row
}

/** The `--help` text of each command, by name, in `mod.ts` order. */
export async function commandUsages(): Promise<[string, string, string][]> {
  const out: [string, string, string][] = [];
  for (const [name, cmd] of Object.entries(COMMANDS)) {
    const mod = await cmd.load() as { USAGE?: string };
    if (typeof mod.USAGE !== "string") throw new Error(`command ${name} exports no USAGE`);
    out.push([name, cmd.summary, mod.USAGE]);
  }
  return out;
}

/** fail2zig(8). */
export async function manPage8(): Promise<string> {
  const docs = await Deno.readTextFile(DOCS);
  const lines = [
    `.TH FAIL2ZIG 8 "" "fail2zig ${VERSION}" "System Administration"`,
    ".SH NAME",
    "fail2zig \\- intrusion\\-prevention daemon that bans addresses failing to authenticate",
    ".SH SYNOPSIS",
    ".nf",
    roff(TOP_USAGE.split("\n")[0]!.replace(/^usage: /, "")),
    ".fi",
    ".SH DESCRIPTION",
    "fail2zig tails service logs (files and the systemd journal), counts authentication",
    "failures per address under a fixed memory ceiling and bans offenders in the kernel",
    "firewall (nftables; iptables and ipset as fallbacks). Administrators control the running",
    "daemon with \\fBfail2zig client\\fR over a Unix socket. The configuration is described in",
    "\\fBfail2zig.toml\\fR(5).",
    ".SH COMMANDS",
  ];
  for (const [name, summary, usage] of await commandUsages()) {
    lines.push(`.SS ${roff(name)}`, roff(summary), ".PP", ".nf", roff(usage), ".fi");
  }
  lines.push(".SH EXIT STATUS");
  for (const [code, name, when] of docsTable(docs, "### Exit codes")) {
    lines.push(".TP", `${roff(code!)} (${inline(name!)})`, inline(when!));
  }
  lines.push(
    ".SH ENVIRONMENT",
    ".TP",
    ".B FAIL2ZIG_SOCKET",
    "The control socket of \\fBfail2zig client\\fR when \\fB\\-\\-socket\\fR is not given.",
    ".SH FILES",
  );
  for (const [what, path] of docsTable(docs, "## Default paths")) {
    lines.push(".TP", inline(path!), inline(what!));
  }
  lines.push(
    ".SH SEE ALSO",
    "\\fBfail2zig.toml\\fR(5), \\fBnft\\fR(8), \\fBsystemctl\\fR(1), \\fBjournalctl\\fR(1)",
  );
  return lines.join("\n") + "\n";
}

/**
 * The config keys of docs/interfaces.md by table, compared with the validator's: throws naming
 * every key one has and the other lacks.
 */
export function documentedKeys(docs: string): { section: string; cells: string[] }[] {
  const rows = docsTable(docs, "## Config (TOML)").map((c) => ({
    section: c[0]!,
    key: c[1]!.replace(/`/g, ""),
    cells: c,
  }));
  const want: Record<string, string> = {};
  for (const [table, keys] of Object.entries(CONFIG_KEYS)) {
    for (const k of keys) {
      if (table === "jail" && CONFIG_KEYS["defaults"]!.includes(k)) continue; // shared
      want[`${table === "defaults" ? "defaults, jail" : table} ${k}`] = k;
    }
  }
  const have = new Set(rows.map((r) => `${r.section} ${r.key}`));
  const missing = Object.keys(want).filter((k) => !have.has(k));
  const extra = [...have].filter((k) => !(k in want));
  if (missing.length > 0 || extra.length > 0) {
    throw new Error(
      `docs/interfaces.md's config table and the validator disagree: undocumented ${
        JSON.stringify(missing)
      }, unknown to the validator ${JSON.stringify(extra)}`,
    );
  }
  return rows;
}

/** fail2zig.toml(5). */
export async function manPage5(): Promise<string> {
  const docs = await Deno.readTextFile(DOCS);
  const rows = documentedKeys(docs);
  const lines = [
    `.TH FAIL2ZIG.TOML 5 "" "fail2zig ${VERSION}" "File Formats"`,
    ".SH NAME",
    "fail2zig.toml \\- configuration of the fail2zig daemon",
    ".SH SYNOPSIS",
    ".B /etc/fail2zig/config.toml",
    ".SH DESCRIPTION",
    "A TOML file with the tables \\fB[global]\\fR, \\fB[defaults]\\fR, \\fB[jails.NAME]\\fR",
    "and \\fB[filters.NAME]\\fR. Unknown keys, duplicate keys, wrong types and out\\-of\\-range",
    "values are errors, reported as PATH:LINE:COL: message by \\fBfail2zig config check\\fR.",
    'Durations are whole seconds or strings such as "1h30m" (units s m h d w).',
    "A jail's keys override \\fB[defaults]\\fR key by key.",
    "The file must not be writable by others; when the daemon runs as root it must be owned by",
    "root and not writable by a group other than root.",
  ];
  let section = "";
  for (const r of rows) {
    if (r.section !== section) {
      section = r.section;
      lines.push(`.SH ${roff(section.toUpperCase())}`);
    }
    const [, key, type, dflt, notes] = r.cells;
    lines.push(
      ".TP",
      `${inline(key!)} (${inline(type!)}; default ${inline(dflt!)})`,
      inline(notes!) || ".",
    );
  }
  lines.push(
    ".SH FILES",
    ".TP",
    ".B /etc/fail2zig/config.toml",
    `The default configuration; every key's default: socket ${
      roff(GLOBAL_DEFAULTS.socketPath)
    }, state ${roff(GLOBAL_DEFAULTS.stateFile)}.`,
    ".SH SEE ALSO",
    "\\fBfail2zig\\fR(8)",
  );
  return lines.join("\n") + "\n";
}

/** The `--flags` a usage text mentions. */
function flagsOf(usage: string): string[] {
  return [...new Set(usage.match(/--[a-z][a-z-]*/g) ?? [])].sort();
}

/** What every shell's completion offers, from the commands' `--help` texts and `mod.ts`. */
export interface CompletionModel {
  /** First words (commands), in `mod.ts` order. */
  readonly first: string[];
  /** Second words of the commands that have them (`config` → `check`). */
  readonly second: Map<string, string[]>;
  /** The flags of each full command name (`config check`), from its usage text. */
  readonly flags: Array<[string, string[]]>;
  /** `fail2zig client`'s commands. */
  readonly client: readonly string[];
}

/** The completion model: one source for the bash, zsh and fish completions. */
export async function completionModel(): Promise<CompletionModel> {
  const usages = await commandUsages();
  const first = [...new Set(usages.map(([n]) => n.split(" ")[0]!))];
  const second = new Map<string, string[]>();
  for (const [n] of usages) {
    const [a, b] = n.split(" ");
    if (b !== undefined) second.set(a!, [...(second.get(a!) ?? []), b]);
  }
  const flags = usages.map(([n, , u]): [string, string[]] => [n, flagsOf(u)]);
  return { first, second, flags, client: CLIENT_COMMANDS };
}

/** Bash completion: commands, their second words, the client's commands, each one's flags. */
export async function bashCompletion(m?: CompletionModel): Promise<string> {
  const { first, second, flags, client } = m ?? await completionModel();
  const flagCases = flags.map(([n, f]) => `    "${n}") flags="${f.join(" ")}" ;;`);
  return `# bash completion for fail2zig (generated by scripts/gen_packaging.ts; do not edit)
_fail2zig() {
  local cur=\${COMP_WORDS[COMP_CWORD]} cmd flags i
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=($(compgen -W "${first.join(" ")} --help" -- "$cur"))
    return
  fi
  cmd=\${COMP_WORDS[1]}
  case "$cmd" in
${
    [...second].map(([a, bs]) =>
      `    ${a}) if [ "$COMP_CWORD" -eq 2 ]; then COMPREPLY=($(compgen -W "${
        bs.join(" ")
      }" -- "$cur")); return; fi; cmd="$cmd \${COMP_WORDS[2]}" ;;`
    ).join("\n")
  }
  esac
  case "$cmd" in
${flagCases.join("\n")}
    *) flags="" ;;
  esac
  if [[ "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "$flags --help" -- "$cur"))
    return
  fi
  if [ "$cmd" = client ]; then
    for ((i = 2; i < COMP_CWORD; i++)); do
      case "\${COMP_WORDS[i]}" in
        ${client.join("|")}) return ;;
      esac
    done
    COMPREPLY=($(compgen -W "${client.join(" ")}" -- "$cur"))
    return
  fi
  COMPREPLY=($(compgen -f -- "$cur"))
}
complete -F _fail2zig fail2zig
`;
}

/** zsh completion (an autoloaded `_fail2zig`), the same offers as the bash one. */
export async function zshCompletion(m?: CompletionModel): Promise<string> {
  const { first, second, flags, client } = m ?? await completionModel();
  const seconds = [...second].map(([a, bs]) =>
    `    ${a}) if (( CURRENT == 3 )); then compadd -- ${
      bs.join(" ")
    }; return; fi; cmd="$cmd \${words[3]}" ;;`
  );
  const flagCases = flags.map(([n, f]) => `    "${n}") flags=(${f.join(" ")}) ;;`);
  return `#compdef fail2zig
# zsh completion for fail2zig (generated by scripts/gen_packaging.ts; do not edit)
_fail2zig() {
  local cmd i
  local -a flags
  if (( CURRENT == 2 )); then
    compadd -- ${first.join(" ")} --help
    return
  fi
  cmd=\${words[2]}
  case "$cmd" in
${seconds.join("\n")}
  esac
  case "$cmd" in
${flagCases.join("\n")}
    *) flags=() ;;
  esac
  if [[ "\${words[CURRENT]}" == -* ]]; then
    compadd -- $flags --help
    return
  fi
  if [[ "$cmd" == client ]]; then
    for (( i = 3; i < CURRENT; i++ )); do
      case "\${words[i]}" in
        ${client.join("|")}) return ;;
      esac
    done
    compadd -- ${client.join(" ")}
    return
  fi
  _files
}
_fail2zig "$@"
`;
}

/** fish completion, the same offers as the bash one. */
export async function fishCompletion(m?: CompletionModel): Promise<string> {
  const { first, second, flags, client } = m ?? await completionModel();
  const c = "complete -c fail2zig";
  const lines = [
    "# fish completion for fail2zig (generated by scripts/gen_packaging.ts; do not edit)",
    `${c} -n __fish_use_subcommand -f -a '${first.join(" ")}'`,
  ];
  for (const [a, bs] of second) {
    lines.push(
      `${c} -n '__fish_seen_subcommand_from ${a}; and not __fish_seen_subcommand_from ${
        bs.join(" ")
      }' -f -a '${bs.join(" ")}'`,
    );
  }
  for (const [n, f] of flags) {
    const cond = n.split(" ").map((w) => `__fish_seen_subcommand_from ${w}`).join("; and ");
    for (const flag of f) lines.push(`${c} -n '${cond}' -l ${flag.slice(2)}`);
  }
  lines.push(
    `${c} -n '__fish_seen_subcommand_from client; and not __fish_seen_subcommand_from ${
      client.join(" ")
    }' -f -a '${client.join(" ")}'`,
    `${c} -s h -l help`,
  );
  return lines.join("\n") + "\n";
}

/**
 * The checkout wrapper: runs the installed copy of the checkout with its pinned runtime, the
 * daemon's V8 flags and the \`daemon\` permission set, as \`deno task fail2zig\` does. It finds
 * the copy relative to itself (BINDIR/../lib/fail2zig), so a staged install runs too.
 */
export function wrapper(): string {
  return `#!/bin/sh
# fail2zig, installed from a checkout by scripts/install.sh (no denort was there to compile a
# single executable): the pinned Deno runtime runs the installed sources under the daemon's V8
# flags and permission set, as \`deno task fail2zig\` does.
here=$(dirname "$(readlink -f "$0")")
lib=$(readlink -f "$here/../lib/fail2zig")
export DENO_DIR="$lib/cache" DENO_NO_UPDATE_CHECK=1 DENO_NO_PROMPT=1 NO_COLOR=\${NO_COLOR-1}
exec "$lib/deno" run -q --config="$lib/deno.json" --v8-flags=${DAEMON_V8_FLAGS} -P=daemon "$lib/mod.ts" "$@"
`;
}

/** `MemoryMax=` for a config: its `memory_ceiling_mb` (read even when it does not validate) + 32. */
export function memoryMaxFor(text: string): string {
  let ceiling: number;
  try {
    ceiling = parseConfig(text, "config.toml").global.memoryCeilingMb;
  } catch {
    const m = /^[ \t]*memory_ceiling_mb[ \t]*=[ \t]*([0-9]+)[ \t]*(#.*)?$/m.exec(text);
    ceiling = m ? Number(m[1]) : GLOBAL_DEFAULTS.memoryCeilingMb;
  }
  return `${ceiling + MEMORY_MAX_MARGIN_MB}M`;
}

async function main(args: string[]): Promise<number> {
  const [what, target] = args;
  if (target === undefined) {
    console.error(
      "usage: gen_packaging.ts man OUTDIR | completion OUTDIR | wrapper FILE | " +
        "memory-max CONFIG",
    );
    return 2;
  }
  switch (what) {
    case "man":
      await Deno.writeTextFile(`${target}/fail2zig.8`, await manPage8());
      await Deno.writeTextFile(`${target}/fail2zig.toml.5`, await manPage5());
      return 0;
    case "completion": {
      const m = await completionModel();
      await Deno.writeTextFile(`${target}/fail2zig.bash`, await bashCompletion(m));
      await Deno.writeTextFile(`${target}/_fail2zig`, await zshCompletion(m));
      await Deno.writeTextFile(`${target}/fail2zig.fish`, await fishCompletion(m));
      return 0;
    }
    case "wrapper":
      await Deno.writeTextFile(target, wrapper());
      return 0;
    case "memory-max": {
      let text = "";
      try {
        text = await Deno.readTextFile(target);
      } catch { /* no config yet: the default ceiling */ }
      console.log(memoryMaxFor(text));
      return 0;
    }
    default:
      console.error(`gen_packaging.ts: unknown target ${what}`);
      return 2;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
