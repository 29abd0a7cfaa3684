/**
 * `deno task fuzz` (scripts/fuzz.ts), run as users run it against a throwaway corpus directory
 * (`FUZZ_CORPUS_DIR`): a real target grows a corpus and reports coverage; the planted targets of
 * tests/fuzz/targets/_selftest.ts show that a failure is saved as `crash-*.json`, an
 * over-time input as `timeout-*.json`, and a hang by the main thread, each replayable.
 */
import { deepEqual, equal, match, ok, throws } from "node:assert/strict";
import { parseFuzzArgs } from "./fuzz.ts";
import { decodeInput } from "../tests/fuzz/_input.ts";

async function fuzz(args: string[], env: Record<string, string> = {}) {
  const dir = await Deno.makeTempDir({ prefix: "fuzz-corpus-" });
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-q", "-P=test", new URL("./fuzz.ts", import.meta.url).pathname, ...args],
    env: { FUZZ_CORPUS_DIR: dir, FUZZ_SELFTEST: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const files: Record<string, string> = {};
  for (const target of Deno.readDirSync(dir)) {
    for (const f of Deno.readDirSync(`${dir}/${target.name}`)) {
      files[`${target.name}/${f.name}`] = Deno.readTextFileSync(`${dir}/${target.name}/${f.name}`);
    }
  }
  await Deno.remove(dir, { recursive: true });
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  return { code: out.code, text, files };
}

Deno.test("parseFuzzArgs takes a target, --seconds and --seed, and refuses the rest", () => {
  deepEqual(parseFuzzArgs(["state", "--seconds", "5", "--seed", "3"]), {
    target: "state",
    seconds: 5,
    seed: 3,
  });
  equal(parseFuzzArgs(["audit"]).seconds, 60);
  throws(() => parseFuzzArgs([]), /usage: deno task fuzz TARGET/);
  throws(() => parseFuzzArgs(["nope"]), /targets: filters, journal-export/);
  throws(() => parseFuzzArgs(["state", "--seconds", "0"]), TypeError);
  throws(() => parseFuzzArgs(["state", "extra"]), TypeError);
});

Deno.test("deno task fuzz grows a corpus from nothing and reports executions and coverage", async () => {
  const r = await fuzz(["ipc-requests", "--seconds", "3", "--seed", "1"]);
  equal(r.code, 0, r.text);
  const m =
    /ipc-requests: (\d+) execs .* corpus 0 -> (\d+), coverage of src\/ipc\/protocol\.ts: ([\d.]+)% .* -> ([\d.]+)% .* reproducers saved: 0/
      .exec(r.text);
  ok(m !== null, r.text);
  const [execs, corpus, before, after] = m.slice(1).map(Number) as [number, number, number, number];
  ok(execs >= 200, `${execs} execs`);
  equal(Object.keys(r.files).length, corpus);
  ok(corpus > 0 && after > before, `coverage ${before}% -> ${after}% with ${corpus} inputs`);
  for (const text of Object.values(r.files)) {
    const input = decodeInput(text);
    ok(input === null || typeof input === "string", "an ipc-requests input is a text or null");
  }
});

Deno.test("deno task fuzz saves a failing input shrunk as crash-*.json and an over-time one as timeout-*.json", async () => {
  const crash = await fuzz(["selftest-crash", "--seconds", "2", "--seed", "1"]);
  equal(crash.code, 1, crash.text);
  match(crash.text, /saved crash-[0-9a-f]{12}\.json: Error: planted failure on \d*7\n/);
  const crashes = Object.entries(crash.files).filter(([f]) => /\/crash-/.test(f));
  ok(crashes.length >= 1);
  for (const [, text] of crashes) equal((decodeInput(text) as number) % 10, 7, "a failing input");

  const slow = await fuzz(["selftest-slow", "--seconds", "2", "--seed", "1"]);
  equal(slow.code, 1, slow.text);
  const slows = Object.entries(slow.files).filter(([f]) => /\/timeout-/.test(f));
  ok(slows.length >= 1, slow.text);
  for (const [, text] of slows) equal((decodeInput(text) as number) % 10, 5);
});

Deno.test("deno task fuzz saves an input that never returns, from the main thread, and goes on", async () => {
  const r = await fuzz(["selftest-hang", "--seconds", "2", "--seed", "1"], { FUZZ_HANG_MS: "500" });
  equal(r.code, 1, r.text);
  match(r.text, /saved timeout-[0-9a-f]{12}\.json: no return within 500 ms/);
  const hung = Object.entries(r.files).filter(([f]) => /\/timeout-/.test(f));
  ok(hung.length >= 1);
  for (const [, text] of hung) equal((decodeInput(text) as number) % 10, 3, "the input that hung");
});

Deno.test("deno task fuzz does not take a paused process for a hang (no CPU time passed)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "fuzz-corpus-" });
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-q", "-P=test", new URL("./fuzz.ts", import.meta.url).pathname, "ipc-requests"]
      .concat(["--seconds", "6", "--seed", "1"]),
    env: { FUZZ_CORPUS_DIR: dir, FUZZ_HANG_MS: "2000" }, // a batch's coverage work takes CPU too
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const stdout = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("fuzz ipc-requests:")) text += (await stdout.read()).value ?? "";
  await pause(1500); // the Worker is running inputs
  child.kill("SIGSTOP");
  await pause(5000); // two and a half times the hang bound, in wall-clock time only
  child.kill("SIGCONT");
  for (let r = await stdout.read(); !r.done; r = await stdout.read()) text += r.value;
  const { code } = await child.status;
  await child.stderr.cancel();
  const saved = [...Deno.readDirSync(`${dir}/ipc-requests`)].map((e) => e.name);
  await Deno.remove(dir, { recursive: true });
  equal(code, 0, text);
  deepEqual(saved.filter((f) => f.startsWith("timeout-")), [], text);
  match(text, /reproducers saved: 0/);
});
