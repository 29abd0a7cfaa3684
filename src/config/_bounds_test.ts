import { deepEqual, equal, ok } from "node:assert/strict";
import { ConfigError, parseConfig } from "./mod.ts";
import {
  checkBounds,
  MAX_CONFIG_ARRAY_ELEMENTS,
  MAX_CONFIG_NESTING,
  MAX_CONFIG_STRING_CHARS,
  MAX_CONFIG_STRING_TOTAL,
  MAX_CONFIG_VALUES,
} from "./_bounds.ts";

function refusal(text: string): string {
  try {
    parseConfig(text, "c.toml");
  } catch (e) {
    if (e instanceof ConfigError) return e.toString();
    throw e;
  }
  throw new Error("accepted");
}

Deno.test("parseConfig refuses 5,000 nested brackets before building anything, naming file, line and column", () => {
  const text = `# x\n\nx = ${"[".repeat(5000)}${"]".repeat(5000)}\n`;
  equal(
    refusal(text),
    `c.toml:3:${
      5 + MAX_CONFIG_NESTING
    }: arrays or tables nested deeper than ${MAX_CONFIG_NESTING} levels`,
  );
  equal(
    refusal(`x = ${"{ a = ".repeat(5000)}1${" }".repeat(5000)}`).split(": ")[1],
    `arrays or tables nested deeper than ${MAX_CONFIG_NESTING} levels`,
  );
});

Deno.test("parseConfig refuses a 400,000-element array, too many values, and over-long strings", () => {
  ok(
    refusal(`x = [${"1,".repeat(400_000)}1]`).includes(
      `more than ${MAX_CONFIG_ARRAY_ELEMENTS} elements in one array`,
    ),
  );
  const many = Array.from({ length: MAX_CONFIG_VALUES + 1 }, (_, i) => `k${i} = 1`).join("\n");
  equal(
    refusal(many),
    `c.toml:${MAX_CONFIG_VALUES + 1}:${
      `k${MAX_CONFIG_VALUES} `.length + 1
    }: more than ${MAX_CONFIG_VALUES} values in the file`,
  );
  ok(refusal(`x = "${"a".repeat(MAX_CONFIG_STRING_CHARS)}"`).startsWith("c.toml:1:5: a string of"));
  const long = `"${"a".repeat(MAX_CONFIG_STRING_CHARS - 2)}"`;
  const lines = Array.from(
    { length: MAX_CONFIG_STRING_TOTAL / long.length + 1 },
    (_, i) => `k${i} = ${long}`,
  );
  ok(
    refusal(lines.join("\n")).includes(
      `more than ${MAX_CONFIG_STRING_TOTAL} characters of strings`,
    ),
  );
});

Deno.test("checkBounds ignores brackets, commas and equals inside strings and comments, and lets real configs through", () => {
  const text =
    `a = "[[[[,,,,===="\nb = '[[[['\nc = """\n[[[[\n""""\nd = '''[[[['''\n# [[[[[[[[,,,,\n` +
    `e = "\\"[[["\n[jails.sshd]\nignoreip = ["192.0.2.0/24", "198.51.100.7"] # [[[[\n`;
  equal(checkBounds(text.replaceAll("[[[[", "[".repeat(40)), "c.toml"), null);
  equal(
    checkBounds(`x = ${"[".repeat(MAX_CONFIG_NESTING)}${"]".repeat(MAX_CONFIG_NESTING)}`, "c"),
    null,
  );
  equal(checkBounds(`x = [${"1,".repeat(MAX_CONFIG_ARRAY_ELEMENTS - 1)}1]`, "c"), null);
  const example = Deno.readTextFileSync(
    new URL("../../fixtures/config/example.toml", import.meta.url),
  );
  equal(checkBounds(example, "example.toml"), null);
  deepEqual(checkBounds(`x = "unterminated [[[[`, "c"), null); // left to the parser
});
