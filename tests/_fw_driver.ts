/**
 * Runs one firewall backend in this process and serves it over stdin/stdout, one JSON object per
 * line, so that a test can drive a backend living inside a network namespace
 * (`ip netns exec NS deno run -P=daemon tests/_fw_driver.ts CONFIG`). See `_fw_remote.ts`.
 *
 * CONFIG (JSON): `{ kind: "nftables" | "iptables" | "ipset" | "select", ipv6Interval?, ipset?,
 * choice?, onNoBackend?, injectNftablesFailure? }`. Requests `{ id, op, entries? }` with op
 * init | ban | unban | list | close; answers `{ id, ok: true, value }` or
 * `{ id, ok: false, error: { name, message, backend?, operation?, errno? } }`. Also op check
 * (`backend.check()`), guard (starts a `FirewallGuard` whose active bans are `entries`, and
 * every later ban; unbans leave them), guard-state (`{ repairs, degraded }`), retain
 * (`retainScopes(scopes)`, the request's `scopes`); close stops the
 * guard first, as the daemon does.
 * @module
 */
import {
  type BanEntry,
  type FirewallBackend,
  FirewallError,
  FirewallGuard,
  IpsetBackend,
  IptablesBackend,
  NftablesBackend,
  type PortScope,
  selectBackend,
} from "../src/firewall/mod.ts";

interface Config {
  kind: "nftables" | "iptables" | "ipset" | "select";
  ipv6Interval?: boolean;
  ipset?: string;
  choice?: "auto" | "nftables" | "iptables" | "ipset" | "log-only";
  onNoBackend?: "fail-closed" | "log-only";
  injectNftablesFailure?: boolean;
  /** Port scopes the backend installs from the start. */
  scopes?: PortScope[];
}

const cfg = JSON.parse(Deno.args[0] ?? "{}") as Config;
const ipset = cfg.ipset ? { ipset: cfg.ipset } : {};
let backend: FirewallBackend | null = null;
let guard: FirewallGuard | null = null;
/** The guard's active bans: key → entry and absolute expiry. */
const active = new Map<string, { entry: BanEntry; expiresAt: number | null }>();

function remember(entries: readonly BanEntry[]): void {
  for (const e of entries) {
    const expiresAt = e.timeoutMs === null ? null : Date.now() + e.timeoutMs;
    active.set(`${e.ip}/${e.prefix}`, { entry: e, expiresAt });
  }
}

function* activeBans(): Generator<BanEntry, void> {
  const now = Date.now();
  for (const { entry, expiresAt } of active.values()) {
    if (expiresAt !== null && expiresAt <= now) continue;
    yield { ...entry, timeoutMs: expiresAt === null ? null : expiresAt - now };
  }
}

function startGuard(b: FirewallBackend, entries: readonly BanEntry[]): void {
  remember(entries);
  guard = new FirewallGuard({
    backend: b,
    activeBans,
    onRepaired: (r) => console.error(`guard: repaired (${r.problem}), ${r.bans} bans, ${r.ms} ms`),
    onRepairFailed: (p, e) => console.error(`guard: repair failed (${p}): ${e}`),
  });
  guard.start();
}

function make(): FirewallBackend {
  if (cfg.kind === "nftables") {
    return new NftablesBackend({
      ipv6Interval: cfg.ipv6Interval ?? false,
      scopes: cfg.scopes ?? [],
    });
  }
  if (cfg.kind === "iptables") return new IptablesBackend();
  return new IpsetBackend({ ...ipset, scopes: cfg.scopes ?? [] });
}

const devNull = { writeSync: (p: Uint8Array) => p.length };

async function handle(
  op: string,
  entries: BanEntry[],
  scopes: PortScope[] = [],
): Promise<unknown> {
  if (op === "init" && cfg.kind === "select") {
    const sel = await selectBackend({
      choice: cfg.choice ?? "auto",
      onNoBackend: cfg.onNoBackend ?? "fail-closed",
      ipv6Interval: cfg.ipv6Interval ?? false,
      scopes: cfg.scopes ?? [],
      logOnlyOut: devNull,
      factories: {
        ...(cfg.injectNftablesFailure
          ? {
            nftables: () => ({
              name: "nftables",
              init: () =>
                Promise.reject(
                  new FirewallError("nftables", "init", "probe failed (injected)", 93),
                ),
              ban: () => Promise.resolve(),
              unban: () => Promise.resolve(),
              list: () => Promise.resolve([]),
              retainScopes: () => Promise.resolve(),
              check: () => Promise.resolve({ ok: false, problem: "injected" }),
              close: () => Promise.resolve(),
            }),
          }
          : {}),
        ...(cfg.ipset ? { ipset: () => new IpsetBackend(ipset) } : {}),
      },
    });
    backend = sel.backend;
    return { name: sel.backend.name, degraded: sel.degraded, failures: sel.failures };
  }
  backend ??= make();
  switch (op) {
    case "init":
      return await backend.init();
    case "ban":
      if (guard !== null) remember(entries);
      return await backend.ban(entries);
    case "unban":
      for (const e of entries) active.delete(`${e.ip}/${e.prefix}`);
      return await backend.unban(entries);
    case "list":
      return await backend.list();
    case "retain":
      return await backend.retainScopes(scopes);
    case "check":
      return await backend.check();
    case "guard":
      return startGuard(backend, entries);
    case "guard-state":
      return { repairs: guard?.repairs ?? 0, degraded: guard?.degraded ?? false };
    case "close":
      await guard?.stop();
      guard = null;
      return await backend.close();
  }
  throw new Error(`unknown op ${op}`);
}

const enc = new TextEncoder();
let buf = "";
for await (const chunk of Deno.stdin.readable.pipeThrough(new TextDecoderStream())) {
  buf += chunk;
  let nl;
  while ((nl = buf.indexOf("\n")) !== -1) {
    const line = buf.slice(0, nl);
    buf = buf.slice(nl + 1);
    const req = JSON.parse(line) as {
      id: number;
      op: string;
      entries?: BanEntry[];
      scopes?: PortScope[];
    };
    let reply: unknown;
    try {
      reply = {
        id: req.id,
        ok: true,
        value: (await handle(req.op, req.entries ?? [], req.scopes)) ?? null,
      };
    } catch (e) {
      const err = e as Error & Partial<FirewallError>;
      reply = {
        id: req.id,
        ok: false,
        error: {
          name: err.name,
          message: err.message,
          backend: err.backend,
          operation: err.operation,
          errno: err.errno,
        },
      };
    }
    Deno.stdout.writeSync(enc.encode(JSON.stringify(reply) + "\n"));
  }
}
