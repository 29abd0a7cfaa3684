import { deepEqual, ok } from "node:assert/strict";
import { cleanMappings, releaseExecutablePages } from "./mod.ts";

const SMAPS = `55d0c0000000-55d0c1000000 r--p 00000000 08:01 42    /usr/bin/deno
Rss:                8192 kB
Anonymous:             0 kB
55d0c1000000-55d0c3000000 r-xp 01000000 08:01 42    /usr/bin/deno
Size:              32768 kB
Rss:               20480 kB
Anonymous:             0 kB
55d0c3000000-55d0c3200000 r--p 03000000 08:01 42    /usr/bin/deno
Rss:                2048 kB
Anonymous:          2048 kB
55d0c3200000-55d0c3300000 rw-p 03200000 08:01 42    /usr/bin/deno
Rss:                1024 kB
Anonymous:           512 kB
7f0000000000-7f0000100000 r-xp 00000000 08:01 7     /usr/lib/x86_64-linux-gnu/libc.so.6
Rss:                1024 kB
Anonymous:             0 kB
7f0000200000-7f0000300000 rw-p 00000000 00:00 0
Rss:                1024 kB
Anonymous:          1024 kB
`;

Deno.test("cleanMappings() keeps the executable's read-only mappings without copied pages", () => {
  deepEqual(cleanMappings(SMAPS, "/usr/bin/deno"), [
    { start: 0x55d0c0000000n, end: 0x55d0c1000000n, rss: 8192 * 1024 },
    { start: 0x55d0c1000000n, end: 0x55d0c3000000n, rss: 20480 * 1024 },
  ]);
  deepEqual(cleanMappings(SMAPS, "/usr/bin/dENO"), []);
  // A mapping whose Anonymous line is missing is not known to be clean.
  deepEqual(cleanMappings("1000-2000 r-xp 00000000 08:01 42 /x\nRss: 4 kB\n", "/x"), []);
});

Deno.test("releaseExecutablePages() unmaps the runtime's resident pages, and the runtime goes on", () => {
  const first = releaseExecutablePages();
  const second = releaseExecutablePages();
  ok(first > 4 * 1048576, `the test runtime had ${first} bytes of its executable resident`);
  ok(second < first / 2, `right after a release ${second} of ${first} bytes came back`);
  // The code comes back from the page cache as it runs again.
  deepEqual(JSON.parse(JSON.stringify({ a: [1, "x"] })), { a: [1, "x"] });
  ok(/^(\d+)-\1$/.test("12-12"));
});
