import assert from "node:assert/strict";
import { type FirewallBackend, FirewallError } from "./backend.ts";
import { MemoryBackend } from "./memory.ts";
import { selectBackend } from "./select.ts";

const devNull = { writeSync: (p: Uint8Array) => p.length };

function failing(name: string, errno: number, closed: string[]): FirewallBackend {
  return {
    name,
    init: () => Promise.reject(new FirewallError(name, "init", `${name} unavailable`, errno)),
    ban: () => Promise.resolve(),
    unban: () => Promise.resolve(),
    list: () => Promise.resolve([]),
    retainScopes: () => Promise.resolve(),
    check: () => Promise.resolve({ ok: false, problem: `${name} unavailable` }),
    close: () => (closed.push(name), Promise.resolve()),
  };
}

function working(name: string): () => FirewallBackend {
  return () => Object.assign(new MemoryBackend(), { name }) as FirewallBackend;
}

Deno.test("selectBackend() auto takes the first kernel backend whose init works", async () => {
  const closed: string[] = [];
  const sel = await selectBackend({
    choice: "auto",
    onNoBackend: "fail-closed",
    factories: { nftables: () => failing("nftables", 93, closed), iptables: working("iptables") },
  });
  assert.equal(sel.backend.name, "iptables");
  assert.equal(sel.degraded, false);
  assert.deepEqual(sel.failures, ["nftables: init: nftables unavailable (errno 93)"]);
  assert.deepEqual(closed, ["nftables"], "the failed candidate was cleaned up");
});

Deno.test("selectBackend() with an explicit choice never falls back", async () => {
  const closed: string[] = [];
  await assert.rejects(
    selectBackend({
      choice: "nftables",
      onNoBackend: "fail-closed",
      factories: { nftables: () => failing("nftables", 1, closed), iptables: working("iptables") },
    }),
    (e: unknown) =>
      e instanceof FirewallError && /nftables unavailable/.test(e.message) &&
      !/iptables/.test(e.message),
  );
});

Deno.test("selectBackend() fails closed with a message naming every failure", async () => {
  const closed: string[] = [];
  await assert.rejects(
    selectBackend({
      choice: "auto",
      onNoBackend: "fail-closed",
      factories: {
        nftables: () => failing("nftables", 1, closed),
        iptables: () => failing("iptables", 1, closed),
        ipset: () => failing("ipset", 2, closed),
      },
    }),
    (e: unknown) =>
      e instanceof FirewallError && e.errno === 2 &&
      /found none: nftables: .*; iptables: .*; ipset: /.test(e.message),
  );
  assert.deepEqual(closed, ["nftables", "iptables", "ipset"]);
});

Deno.test("selectBackend() runs log-only and degraded when allowed and nothing works", async () => {
  const closed: string[] = [];
  const sel = await selectBackend({
    choice: "auto",
    onNoBackend: "log-only",
    logOnlyOut: devNull,
    factories: {
      nftables: () => failing("nftables", 1, closed),
      iptables: () => failing("iptables", 1, closed),
      ipset: () => failing("ipset", 2, closed),
    },
  });
  assert.equal(sel.backend.name, "log-only");
  assert.equal(sel.degraded, true);
  assert.equal(sel.failures.length, 3);
});

Deno.test("selectBackend() with firewall = log-only is degraded: nothing enforces its bans", async () => {
  const sel = await selectBackend({
    choice: "log-only",
    onNoBackend: "fail-closed",
    logOnlyOut: devNull,
  });
  assert.equal(sel.backend.name, "log-only");
  assert.equal(sel.degraded, true);
  assert.deepEqual(sel.failures, []);
});
