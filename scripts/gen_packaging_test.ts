import { deepEqual, equal, ok, throws } from "node:assert/strict";
import {
  bashCompletion,
  completionModel,
  documentedKeys,
  fishCompletion,
  memoryMaxFor,
  zshCompletion,
} from "./gen_packaging.ts";

const DOCS = await Deno.readTextFile(new URL("../docs/interfaces.md", import.meta.url));

Deno.test("fail2zig.toml(5) is refused when docs/interfaces.md and the validator disagree on a key", () => {
  equal(documentedKeys(DOCS).length > 30, true);
  const row = DOCS.split("\n").find((l) => l.includes("| `line_max_bytes`"))!;
  throws(
    () => documentedKeys(DOCS.replace(row + "\n", "")),
    /undocumented \["global line_max_bytes"\]/,
  );
  throws(
    () => documentedKeys(DOCS.replace(row, row.replace("line_max_bytes", "line_max_kb"))),
    /unknown to the validator \["global line_max_kb"\]/,
  );
});

Deno.test("MemoryMax is the config's memory_ceiling_mb + 32 MiB, also from a config that does not validate", () => {
  equal(memoryMaxFor(""), "160M");
  equal(memoryMaxFor("[global]\nmemory_ceiling_mb = 512\n"), "544M");
  equal(memoryMaxFor("[global]\nmemory_ceiling_mb = 300\nbogus = 1\n"), "332M");
  equal(memoryMaxFor("[global\nmemory_ceiling_mb = 200\n"), "232M");
});

/** Whether `cmd` is on this machine (the shells are optional: a structural check stands in). */
function has(cmd: string): boolean {
  return ["/usr/bin", "/bin"].some((d) => {
    try {
      return Deno.statSync(`${d}/${cmd}`).isFile;
    } catch {
      return false;
    }
  });
}

async function syntaxCheck(shell: string, text: string): Promise<void> {
  const file = await Deno.makeTempFile();
  try {
    await Deno.writeTextFile(file, text);
    const r = await new Deno.Command(shell, { args: ["-n", file], stderr: "piped" }).output();
    deepEqual([r.code, new TextDecoder().decode(r.stderr)], [0, ""], shell);
  } finally {
    await Deno.remove(file);
  }
}

Deno.test("the zsh and fish completions offer every command, second word, flag and client command of the bash one", async () => {
  const m = await completionModel();
  const [bash, zsh, fish] = [
    await bashCompletion(m),
    await zshCompletion(m),
    await fishCompletion(m),
  ];
  ok(zsh.startsWith("#compdef fail2zig\n"));
  ok(zsh.includes(`compadd -- ${m.first.join(" ")} --help`), zsh);
  ok(bash.includes(`compgen -W "${m.first.join(" ")} --help"`));
  ok(fish.includes(`-n __fish_use_subcommand -f -a '${m.first.join(" ")}'`), fish);
  ok(m.second.get("config")?.includes("check"));
  for (const [a, bs] of m.second) {
    ok(zsh.includes(`${a}) if (( CURRENT == 3 )); then compadd -- ${bs.join(" ")};`), a);
    ok(fish.includes(`not __fish_seen_subcommand_from ${bs.join(" ")}' -f -a '${bs.join(" ")}'`));
  }
  ok(m.flags.some(([n, f]) => n === "import-fail2ban" && f.includes("--bans")));
  for (const [n, f] of m.flags) {
    ok(zsh.includes(`"${n}") flags=(${f.join(" ")}) ;;`), n);
    ok(bash.includes(`"${n}") flags="${f.join(" ")}" ;;`), n);
    const cond = n.split(" ").map((w) => `__fish_seen_subcommand_from ${w}`).join("; and ");
    for (const flag of f) ok(fish.includes(`-n '${cond}' -l ${flag.slice(2)}\n`), `${n} ${flag}`);
  }
  ok(zsh.includes(`compadd -- ${m.client.join(" ")}\n`));
  ok(fish.includes(`-f -a '${m.client.join(" ")}'\n`));
  await syntaxCheck("bash", bash);
  if (has("zsh")) await syntaxCheck("zsh", zsh);
  if (has("fish")) await syntaxCheck("fish", fish);
});
