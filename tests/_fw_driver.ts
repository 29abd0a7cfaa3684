/**
 * Runs one firewall backend in this process and serves it over stdin/stdout, one JSON object per
 * line, so that a test can drive a backend living inside a network namespace
 * (`ip netns exec NS deno run -P=daemon tests/_fw_driver.ts CONFIG`). See `_fw_remote.ts`.
 *
 * CONFIG (JSON): `{ kind: "nftables" | "iptables" | "ipset" | "select", ipv6Interval?, ipset?,
 * choice?, onNoBackend?, injectNftablesFailure? }`. Requests `{ id, op, entries? }` with op
 * init | ban | unban | list | close; answers `{ id, ok: true, value }` or
 * `{ id, ok: false, error: { name, message, backend?, operation?, errno? } }`.
 * @module
 */
import {
  type BanEntry,
  type FirewallBackend,
  FirewallError,
  IpsetBackend,
  IptablesBackend,
  NftablesBackend,
  selectBackend,
} from "../src/firewall/mod.ts";

interface Config {
  kind: "nftables" | "iptables" | "ipset" | "select";
  ipv6Interval?: boolean;
  ipset?: string;
  choice?: "auto" | "nftables" | "iptables" | "ipset" | "log-only";
  onNoBackend?: "fail-closed" | "log-only";
  injectNftablesFailure?: boolean;
}

const cfg = JSON.parse(Deno.args[0] ?? "{}") as Config;
const ipset = cfg.ipset ? { ipset: cfg.ipset } : {};
let backend: FirewallBackend | null = null;

function make(): FirewallBackend {
  if (cfg.kind === "nftables") {
    return new NftablesBackend({ ipv6Interval: cfg.ipv6Interval ?? false });
  }
  if (cfg.kind === "iptables") return new IptablesBackend();
  return new IpsetBackend(ipset);
}

const devNull = { writeSync: (p: Uint8Array) => p.length };

async function handle(op: string, entries: BanEntry[]): Promise<unknown> {
  if (op === "init" && cfg.kind === "select") {
    const sel = await selectBackend({
      choice: cfg.choice ?? "auto",
      onNoBackend: cfg.onNoBackend ?? "fail-closed",
      ipv6Interval: cfg.ipv6Interval ?? false,
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
      return await backend.ban(entries);
    case "unban":
      return await backend.unban(entries);
    case "list":
      return await backend.list();
    case "close":
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
    const req = JSON.parse(line) as { id: number; op: string; entries?: BanEntry[] };
    let reply: unknown;
    try {
      reply = { id: req.id, ok: true, value: (await handle(req.op, req.entries ?? [])) ?? null };
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
