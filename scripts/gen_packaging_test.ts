import { equal, throws } from "node:assert/strict";
import { documentedKeys, memoryMaxFor } from "./gen_packaging.ts";

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
