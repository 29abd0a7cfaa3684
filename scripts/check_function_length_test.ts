import { deepEqual, equal, match } from "node:assert/strict";
import plugin, { MAX_FUNCTION_LINES } from "./check_function_length.ts";

/** A function declaration spanning exactly `lines` lines, its body with braces in strings. */
function fn(name: string, lines: number): string {
  const body = Array.from({ length: lines - 2 }, (_, i) => `  const v${i} = "}" + \`{\${${i}}\`;`);
  return [`function ${name}(): void {`, ...body, "}"].join("\n") + "\n";
}

function messages(filename: string, source: string): string[] {
  return Deno.lint.runPlugin(plugin, filename, source).map((d) => d.message);
}

Deno.test("function-length reports a function, method or arrow over 120 lines in src/, and passes 120", () => {
  const at = `/repo/src/x/a.ts`;
  deepEqual(messages(at, fn("fits", MAX_FUNCTION_LINES)), []);
  deepEqual(messages(at, fn("long", MAX_FUNCTION_LINES + 1)), [
    "function long spans 121 lines (more than 120)",
  ]);
  const method = "class A {\n  run(): void " + fn("", 121).replace(/^function \(\): void /, "");
  deepEqual(messages(at, method + "}\n"), ["method run spans 121 lines (more than 120)"]);
  const arrow = "const go = () => " + fn("", 130).replace(/^function \(\): void /, "") + ";\n";
  deepEqual(messages(at, arrow), ["function go spans 130 lines (more than 120)"]);
  deepEqual(messages("/repo/tests/a_test.ts", fn("long", 200)), []);
  // a checkout under some other src/ folder: the path is read from its last src/
  deepEqual(messages("/home/src/checkout/src/x/a.ts", fn("long", 121)), [
    "function long spans 121 lines (more than 120)",
  ]);
});

Deno.test("deno lint with the plugin exits 1 naming file and line of a long function", async () => {
  const root = await Deno.makeTempDir({ prefix: "check_function_length_" });
  try {
    const pluginUrl = new URL("./check_function_length.ts", import.meta.url).href;
    await Deno.writeTextFile(
      `${root}/deno.json`,
      JSON.stringify({ lint: { plugins: [pluginUrl] } }),
    );
    await Deno.mkdir(`${root}/src/x`, { recursive: true });
    await Deno.writeTextFile(`${root}/src/x/a.ts`, "export const a = 1;\n\n" + fn("long", 150));
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["lint", "--compact", "--rules-tags=", "--config", `${root}/deno.json`, `${root}/src`],
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).output();
    equal(out.code, 1);
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    match(text, /src\/x\/a\.ts: line 3, col 1 - function long spans 150 lines \(more than 120\)/);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
