import { deepEqual, equal, throws } from "node:assert/strict";
import { parseFlags, UsageError } from "./_cli.ts";

const SPECS = {
  config: { type: "string", short: "c" },
  json: { type: "boolean" },
} as const;

Deno.test("parseFlags() reads long, short and inline forms and keeps positionals in order", () => {
  deepEqual(parseFlags(["a", "--config", "x.toml", "b", "--json"], SPECS, ""), {
    values: { config: "x.toml", json: true },
    positionals: ["a", "b"],
  });
  deepEqual(parseFlags(["--config=x=y", "-"], SPECS, "")?.values, { config: "x=y" });
  deepEqual(parseFlags(["-c", "x"], SPECS, "")?.values, { config: "x" });
  deepEqual(parseFlags(["-cx"], SPECS, "")?.values, { config: "x" });
  deepEqual(parseFlags(["--config="], SPECS, "")?.values, { config: "" });
  deepEqual(parseFlags(["-"], SPECS, "")?.positionals, ["-"]);
  deepEqual(parseFlags(["--", "--json", "-c"], SPECS, ""), {
    values: {},
    positionals: ["--json", "-c"],
  });
});

Deno.test("parseFlags() refuses unknown flags, missing and unexpected values, and repeats", () => {
  const bad: [string[], string][] = [
    [["--nope"], "unknown option '--nope'"],
    [["-x"], "unknown option '-x'"],
    [["--config"], "option '--config' needs a value"],
    [["--json=yes"], "option '--json' takes no value, found 'yes'"],
    [["--json", "--json"], "option '--json' given twice"],
    [["--constructor"], "unknown option '--constructor'"],
  ];
  for (const [args, message] of bad) {
    throws(
      () => parseFlags(args, SPECS, ""),
      (e) => e instanceof UsageError && e.message === message,
    );
  }
});

Deno.test("parseFlags() prints the usage and returns null for --help or -h", () => {
  const log = console.log;
  const printed: unknown[] = [];
  console.log = (m: unknown) => printed.push(m);
  try {
    equal(parseFlags(["x", "--help"], SPECS, "usage: x"), null);
    equal(parseFlags(["-h"], SPECS, "usage: x"), null);
  } finally {
    console.log = log;
  }
  deepEqual(printed, ["usage: x", "usage: x"]);
});
