import { equal } from "node:assert/strict";
import { newShape, parseShape, shapeTime } from "./_shape.ts";

const NOW = Date.UTC(2026, 10, 25, 12, 0, 0);
const local = (y: number, mo: number, d: number, h: number, mi: number, s: number, ms = 0) =>
  new Date(y, mo, d, h, mi, s, ms).getTime();

function shape(line: string) {
  const sh = newShape();
  parseShape(line, sh);
  const prog = sh.progStart < 0 ? null : line.slice(sh.progStart, sh.progEnd);
  return { prog, msg: line.slice(sh.msgStart, sh.msgEnd), time: shapeTime(line, sh, NOW) };
}

Deno.test("parseShape() finds program, message and time in every supported prefix", () => {
  const cases: [string, string | null, string, number | null][] = [
    ["Nov 24 12:26:41 web1 sshd[1]: hello", "sshd", "hello", local(2026, 10, 24, 12, 26, 41)],
    ["Nov  4 02:03:04.250 web1 sshd: hello ", "sshd", "hello", local(2026, 10, 4, 2, 3, 4, 250)],
    ["Nov 24 12:26:41 sshd[1]: hello", "sshd", "hello", local(2026, 10, 24, 12, 26, 41)],
    ["<38>Nov 24 12:26:41 h sshd[1]: hello", "sshd", "hello", local(2026, 10, 24, 12, 26, 41)],
    ["Nov 24 2025 12:26:41 h x: hello", null, "Nov 24 2025 12:26:41 h x: hello", null],
    ["Nov 24 12:26:41 2025 h x: hello", "x", "hello", local(2025, 10, 24, 12, 26, 41)],
    [
      "2026-11-24T12:26:41.771471+00:00 h sshd-session[9]: hello",
      "sshd-session",
      "hello",
      Date.UTC(2026, 10, 24, 12, 26, 41, 771),
    ],
    ["2026-11-24T12:26:41-0130 h a: hello", "a", "hello", Date.UTC(2026, 10, 24, 13, 56, 41)],
    // journalctl -o short-unix, short-full, short-monotonic (docs/formats/prefixes.md PRE-07u/f/m)
    [
      "1795523201.771471 h sshd[9]: hello",
      "sshd",
      "hello",
      Date.UTC(2026, 10, 24, 12, 26, 41, 771),
    ],
    [
      "Tue 2026-11-24 12:26:41 UTC h sshd[9]: hello",
      "sshd",
      "hello",
      Date.UTC(2026, 10, 24, 12, 26, 41),
    ],
    [
      "Tue 2026-11-24 12:26:41 CET h sshd[9]: hello",
      "sshd",
      "hello",
      local(2026, 10, 24, 12, 26, 41),
    ],
    ["[ 12345.678901] h sshd[9]: hello", "sshd", "hello", null],
    ["[1234567.678901] h sshd[9]: hello", "sshd", "hello", null],
    ["[12345] h sshd[9]: hello", null, "[12345] h sshd[9]: hello", null],
    [
      '<13>1 2026-11-24T12:26:41Z h app 12 ID7 [x a="\\]\\""][y] hello',
      "app",
      "hello",
      Date.UTC(2026, 10, 24, 12, 26, 41),
    ],
    [
      "2026-11-24 12:26:41,123 h proftpd[5] srv (a[1.2.3.4]): hello",
      "proftpd",
      "srv (a[1.2.3.4]): hello",
      local(2026, 10, 24, 12, 26, 41, 123),
    ],
    [
      "2026/11/24 12:26:41 [error] 1#1: hello",
      null,
      "[error] 1#1: hello",
      local(2026, 10, 24, 12, 26, 41),
    ],
    [
      "Tue Nov 24 12:26:41 2026 [pid 1] hello",
      null,
      "[pid 1] hello",
      local(2026, 10, 24, 12, 26, 41),
    ],
    [
      "[Tue Nov 24 12:26:41.5 2026] [core:error] hello",
      null,
      "[core:error] hello",
      local(2026, 10, 24, 12, 26, 41, 500),
    ],
    [
      '1.2.3.4 - - [24/Nov/2026:12:26:41 +0200] "GET / HTTP/1.1" 404 1',
      null,
      '1.2.3.4 - - [24/Nov/2026:12:26:41 +0200] "GET / HTTP/1.1" 404 1',
      Date.UTC(2026, 10, 24, 10, 26, 41),
    ],
    // bare tags after a host, and a parenthesised sub-tag (docs/formats/prefixes.md PRE-02b)
    ["Nov 24 12:26:41 h [sshd] hello", "sshd", "hello", local(2026, 10, 24, 12, 26, 41)],
    ["Nov 24 12:26:41 h [sshd-auth]: hello", "sshd-auth", "hello", local(2026, 10, 24, 12, 26, 41)],
    ["Nov 24 12:26:41 (sshd) hello", "sshd", "hello", local(2026, 10, 24, 12, 26, 41)],
    ["Nov 24 12:26:41 h (sshd): hello", "sshd", "hello", local(2026, 10, 24, 12, 26, 41)],
    [
      "Nov 24 12:26:41 h sshd(pam_unix)[1]: hello",
      "sshd",
      "hello",
      local(2026, 10, 24, 12, 26, 41),
    ],
    ["Nov 24 12:26:41 h [1234]: hello", null, "h [1234]: hello", local(2026, 10, 24, 12, 26, 41)],
    ["Nov 24 12:26:41 h [9x] hello", null, "h [9x] hello", local(2026, 10, 24, 12, 26, 41)],
    ["web1 sshd[1]: hello", "sshd", "hello", null],
    ["sshd[1]: hello", "sshd", "hello", null],
    ["error: PAM: hello", null, "error: PAM: hello", null],
    [
      "Nov 24 12:26:41 h sshd[1]: message repeated 2 times: [ hello]",
      "sshd",
      "hello",
      local(2026, 10, 24, 12, 26, 41),
    ],
    [
      "Nov 24 12:26:41 h sshd[1]: [ID 800047 auth.info] hello",
      "sshd",
      "hello",
      local(2026, 10, 24, 12, 26, 41),
    ],
    [
      "Nov 24 12:26:41 h nginx: 2026/11/24 12:26:42 [error] x",
      "nginx",
      "[error] x",
      local(2026, 10, 24, 12, 26, 42),
    ],
    ["Xyz 24 12:26:41 h sshd[1]: hello", "sshd", "hello", null],
    ["Nov 99 12:26:41 h sshd[1]: hello", "sshd", "hello", null],
  ];
  for (const [line, prog, msg, time] of cases) {
    const got = shape(line);
    equal(got.prog, prog, `program of ${line}`);
    equal(got.msg, msg, `message of ${line}`);
    equal(got.time, time, `time of ${line}`);
  }
});

Deno.test("a year-less time more than a day ahead of now belongs to the previous year", () => {
  equal(shape("Nov 26 11:59:59 h a: x").time, local(2026, 10, 26, 11, 59, 59));
  equal(shape("Dec 24 12:00:00 h a: x").time, local(2025, 11, 24, 12, 0, 0));
});
