/**
 * An upgrade keeps every ban: `fixtures/state/v1.bin`, written by the format of earlier builds
 * (version 1), still loads after the format changed, and its bans are re-established; so does
 * `fixtures/state/v2.bin`, written by today's format (version 2), for the next change.
 */
import assert from "node:assert/strict";
import { decodeState, openState } from "./mod.ts";
import { V1_SAVED_AT, v1FixtureBytes, v1FixtureInput } from "../../fixtures/state/make_v1.ts";
import { V2_AUDIT, v2FixtureBytes } from "../../fixtures/state/make_v2.ts";
import { ManualClock, Tracker } from "../tracker/mod.ts";
import { jail, recidive } from "../tracker/_testing.ts";

const FIXTURE = new URL("../../fixtures/state/v1.bin", import.meta.url);
const FIXTURE_V2 = new URL("../../fixtures/state/v2.bin", import.meta.url);

Deno.test("fixtures/state/v1.bin is what fixtures/state/make_v1.ts writes", () => {
  assert.deepEqual(Deno.readFileSync(FIXTURE), v1FixtureBytes());
});

Deno.test("a version 1 state file loads whole after an upgrade: every ban, history, position and ignore entry", () => {
  const bytes = Deno.readFileSync(FIXTURE);
  assert.equal(new DataView(bytes.buffer).getUint16(4, true), 1, "the fixture is version 1");
  const decoded = decodeState(bytes);
  assert.ok(decoded.ok, decoded.ok ? "" : decoded.reason);
  const want = v1FixtureInput();
  const s = decoded.state;
  assert.deepEqual(s.bans, [...want.bans]);
  assert.deepEqual(s.history, [...want.history]);
  assert.deepEqual(s.failures, [...want.failures]);
  assert.deepEqual(s.positions, [...want.positions]);
  assert.deepEqual(s.ignores, [...(want.ignores ?? [])]);
});

Deno.test("the bans of a version 1 state file are active again in the tracker after an upgrade", () => {
  const opened = openState(Deno.readFileSync(FIXTURE));
  assert.ok(opened.ok);
  const clock = new ManualClock(V1_SAVED_AT + 60_000);
  const t = new Tracker({
    jails: [jail("sshd"), jail("web", { ipv6Prefix: 64 }), recidive()],
    capacity: 64,
    clock,
    hashSeed: 1,
  });
  const r = t.restore(opened.state);
  assert.deepEqual([r.expired, r.skipped], [0, 0]);
  const active = [...t.eachActiveBan()].map((b) => `${b.jail} ${b.ip}/${b.prefix}`).sort();
  assert.deepEqual(
    active,
    [...v1FixtureInput().bans].map((b) => `${b.jail} ${b.ip}/${b.prefix}`).sort(),
  );
});

Deno.test("fixtures/state/v2.bin is what fixtures/state/make_v2.ts writes", () => {
  assert.deepEqual(Deno.readFileSync(FIXTURE_V2), v2FixtureBytes());
});

Deno.test("a version 2 state file loads whole: every ban, history, position, ignore entry and the audit head", () => {
  const bytes = Deno.readFileSync(FIXTURE_V2);
  assert.equal(new DataView(bytes.buffer).getUint16(4, true), 2, "the fixture is version 2");
  const decoded = decodeState(bytes);
  assert.ok(decoded.ok, decoded.ok ? "" : decoded.reason);
  const want = v1FixtureInput();
  const s = decoded.state;
  assert.deepEqual(s.bans, [...want.bans]);
  assert.deepEqual(s.history, [...want.history]);
  assert.deepEqual(s.failures, [...want.failures]);
  assert.deepEqual(s.positions, [...want.positions]);
  assert.deepEqual(s.ignores, [...(want.ignores ?? [])]);
  assert.deepEqual(s.audit, V2_AUDIT);
});
