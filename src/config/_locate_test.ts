import { deepEqual, equal } from "node:assert/strict";
import { formatPath, locate, type Segment } from "./_locate.ts";

/** `LINE:COL` of a path's key and value. */
function where(text: string, segs: Segment[]): [string, string] | undefined {
  const layout = locate(text);
  const loc = layout.get(segs);
  if (loc === undefined) return undefined;
  const p = (o: number) => {
    const { line, column } = layout.position(o);
    return `${line}:${column}`;
  };
  return [p(loc.keyOffset), loc.valueOffset < 0 ? "-" : p(loc.valueOffset)];
}

Deno.test("locate() finds keys under headers, dotted keys and quoted keys", () => {
  const text = '# c\n[jails.sshd]\n  bantime = "1h"\n[jails."a b".x]\ny.z = 1\n';
  deepEqual(where(text, ["jails", "sshd", "bantime"]), ["3:3", "3:13"]);
  deepEqual(where(text, ["jails", "sshd"]), ["2:8", "-"]);
  deepEqual(where(text, ["jails", "a b", "x", "y", "z"]), ["5:3", "5:7"]);
  deepEqual(where(text, ["jails", "a b", "x", "y"]), ["5:1", "-"]);
});

Deno.test("locate() finds items of multi-line arrays with comments and inline tables", () => {
  const text = 'a = [\n  "x", # one\n  [1, 2],\n  { k = "v" },\n]\nb = 2\n';
  deepEqual(where(text, ["a", 0]), ["2:3", "2:3"]);
  deepEqual(where(text, ["a", 1, 1]), ["3:7", "3:7"]);
  deepEqual(where(text, ["a", 2, "k"]), ["4:5", "4:9"]);
  deepEqual(where(text, ["b"]), ["6:1", "6:5"]);
});

Deno.test("locate() steps over multi-line strings that contain brackets and equals signs", () => {
  const text = "p = \"\"\"\n[not.a.table]\nx = 1\"\"\"\nq = '''a\n]'''\nr = 3\n";
  equal(where(text, ["not"]), undefined);
  deepEqual(where(text, ["r"]), ["6:1", "6:5"]);
});

Deno.test("locate() maps decoded string characters back to the text, escapes included", () => {
  const text = 'p = "a\\\\d\\u00e9b"\n';
  const loc = locate(text).get(["p"])!;
  // decoded: a \ d é b — raw offsets of each start at the quote + 1
  deepEqual(Array.from(loc.stringMap!), [5, 6, 8, 9, 15, 16]);
});

Deno.test("locate() tells integers from floats and datetimes as written", () => {
  const layout = locate("a = 5\nb = 5.0\nc = 1e3\nd = 0x1F\ne = 1979-05-27 07:32:00Z\nf = true\n");
  deepEqual(
    ["a", "b", "c", "d", "e", "f"].map((k) => layout.get([k])!.kind),
    ["integer", "float", "float", "integer", "datetime", "boolean"],
  );
  equal(layout.get(["e"])!.raw, "1979-05-27 07:32:00Z");
});

Deno.test("locate() reports each duplicate at its second occurrence", () => {
  const layout = locate("[a]\nx = 1\nx = 2\n[a]\n[b]\nc.d = 1\n[b.c]\n");
  deepEqual(
    layout.duplicates.map((d) => {
      const p = layout.position(d.offset);
      return `${p.line}:${p.column}: ${d.message}`;
    }),
    [
      "3:1: duplicate key a.x (first defined at 2:1)",
      "4:2: duplicate table [a] (first defined at 1:2)",
      "7:4: duplicate key: [b.c] redefines a table defined by dotted keys at 6:1",
    ],
  );
});

Deno.test("locate() indexes arrays of tables and survives text it does not understand", () => {
  const layout = locate("[[t]]\nk = 1\n[[t]]\nk = 2\n@@@ garbage\nz = 3\n");
  equal(layout.position(layout.get(["t", 1, "k"])!.keyOffset).line, 4);
  equal(layout.position(layout.get(["t", 1, "z"])!.keyOffset).line, 6);
  deepEqual(layout.duplicates, []);
});

Deno.test("formatPath() quotes keys that are not bare and indexes arrays", () => {
  equal(formatPath(["jails", "a b", "ignoreip", 2]), 'jails."a b".ignoreip[2]');
});
