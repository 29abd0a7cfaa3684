/**
 * A jail's `port` and `protocol` → the `PortScope` its bans are limited to. Port items are
 * numbers, service names (the ports `/etc/services` gives them, from a built-in table so loading
 * reads no file and means the same on every host), ranges `1000:2000` and `all`. The scope id is
 * canonical (sorted, merged ranges), so jails that limit to the same traffic share one scope.
 * @module
 */
import type { PortScope, Protocol } from "./types.ts";

/**
 * Most port items a jail may list (a range counts as two): iptables' `multiport` match takes at
 * most 15, and every backend enforces the same scopes.
 */
export const MAX_PORT_ITEMS = 15;

/**
 * Service names and their port, as Debian's `/etc/services` lists them (aliases included): the
 * names fail2ban's stock jails use, and other common daemons'. `src/config/scope_test.ts`
 * compares them with the host's file.
 */
export const SERVICES: Readonly<Record<string, number>> = {
  "ftp-data": 20,
  ftp: 21,
  ssh: 22,
  telnet: 23,
  smtp: 25,
  mail: 25,
  domain: 53,
  http: 80,
  www: 80,
  pop3: 110,
  "pop-3": 110,
  ntp: 123,
  imap2: 143,
  imap: 143,
  "netbios-ssn": 139,
  snmp: 161,
  ldap: 389,
  https: 443,
  "microsoft-ds": 445,
  submissions: 465,
  ssmtp: 465,
  smtps: 465,
  submission: 587,
  ldaps: 636,
  rsync: 873,
  "ftps-data": 989,
  ftps: 990,
  imaps: 993,
  pop3s: 995,
  socks: 1080,
  openvpn: 1194,
  "ms-sql-s": 1433,
  mysql: 3306,
  sieve: 4190,
  sip: 5060,
  "sip-tls": 5061,
  "xmpp-client": 5222,
  "jabber-client": 5222,
  postgresql: 5432,
  postgres: 5432,
  "http-alt": 8080,
  webcache: 8080,
  webmin: 10000,
};

/** One port item parsed: inclusive ranges (`all` → null), or why it was refused. */
export type PortItem =
  | { readonly ok: true; readonly range: readonly [number, number] | null }
  | { readonly ok: false; readonly reason: string };

function portNumber(text: string): number | null {
  if (!/^[0-9]{1,5}$/.test(text)) return null;
  const n = Number(text);
  return n >= 1 && n <= 65535 ? n : null;
}

/** One item of `port`: an integer, a name, `A:B` or `all`. */
export function parsePortItem(item: string | number): PortItem {
  if (typeof item === "number") {
    return Number.isInteger(item) && item >= 1 && item <= 65535
      ? { ok: true, range: [item, item] }
      : { ok: false, reason: `a port must be between 1 and 65535, found ${item}` };
  }
  const s = item.trim();
  if (s === "all") return { ok: true, range: null };
  if (s.includes(",")) {
    return {
      ok: false,
      reason: `expected one port per list item, found ${JSON.stringify(s)}` +
        ` (write ["${s.split(",").map((x) => x.trim()).join('", "')}"])`,
    };
  }
  const colon = s.indexOf(":");
  if (colon >= 0) {
    const a = portNumber(s.slice(0, colon)) ?? (s.slice(0, colon) === "0" ? 1 : null);
    const b = portNumber(s.slice(colon + 1));
    if (a === null || b === null || a > b) {
      return {
        ok: false,
        reason: `expected a range FROM:TO of ports 1..65535 with FROM ≤ TO, found ${
          JSON.stringify(s)
        }`,
      };
    }
    return { ok: true, range: a === 1 && b === 65535 ? null : [a, b] };
  }
  const n = portNumber(s);
  if (n !== null) return { ok: true, range: [n, n] };
  const named = Object.hasOwn(SERVICES, s) ? SERVICES[s] : undefined;
  if (named !== undefined) return { ok: true, range: [named, named] };
  return {
    ok: false,
    reason: `unknown service name ${JSON.stringify(s)}; write its port number (known names: ${
      Object.keys(SERVICES).join(", ")
    })`,
  };
}

/** Sorted, with overlapping and adjacent ranges merged. */
function mergeRanges(ranges: readonly (readonly [number, number])[]): [number, number][] {
  const sorted = [...ranges].sort((x, y) => x[0] - y[0]);
  const out: [number, number][] = [];
  for (const [a, b] of sorted) {
    const last = out[out.length - 1];
    if (last !== undefined && a <= last[1] + 1) last[1] = Math.max(last[1], b);
    else out.push([a, b]);
  }
  return out;
}

/**
 * The scope of a jail: `ranges` null means every port. `protocol` "all" with ports means tcp and
 * udp (the transport protocols that have ports); every port of every protocol is no scope (null):
 * the ban drops all the address's traffic.
 */
export function makeScope(
  protocol: Protocol | "all",
  ranges: readonly (readonly [number, number])[] | null,
): PortScope | null {
  if (protocol === "all" && ranges === null) return null;
  const protocols: Protocol[] = protocol === "all" ? ["tcp", "udp"] : [protocol];
  const ports = ranges === null ? [] : mergeRanges(ranges);
  const text = ports.map(([a, b]) => a === b ? String(a) : `${a}-${b}`).join("_");
  return { id: `${protocols.join("_")}.${text === "" ? "all" : text}`, protocols, ports };
}

/** How many multiport items the scope's ports take (a range counts as two). */
export function portItems(ports: readonly (readonly [number, number])[]): number {
  return ports.reduce((n, [a, b]) => n + (a === b ? 1 : 2), 0);
}

/** `tcp 22,2222,1000:2000` — how `client status` and the importer write a scope. */
export function describeScope(scope: PortScope | null): string {
  if (scope === null) return "all";
  const ports = scope.ports.length === 0
    ? "all"
    : scope.ports.map(([a, b]) => a === b ? String(a) : `${a}:${b}`).join(",");
  return `${scope.protocols.join("+")} ${ports}`;
}

/** The scope an id names (what firewall rule comments carry back); null when it is not one. */
export function scopeFromId(id: string): PortScope | null {
  const m = /^(tcp|udp|tcp_udp)\.(all|[0-9]+(?:-[0-9]+)?(?:_[0-9]+(?:-[0-9]+)?)*)$/.exec(id);
  if (m === null) return null;
  const protocols = m[1]!.split("_") as Protocol[];
  const ranges = m[2] === "all" ? [] : m[2]!.split("_").map((r) => {
    const [a, b] = r.split("-").map(Number);
    return [a!, b ?? a!] as const;
  });
  if (ranges.some(([a, b]) => a < 1 || b > 65535 || a > b)) return null;
  const protocol = protocols.length === 2 ? "all" : protocols[0]!;
  const scope = makeScope(protocol, ranges.length === 0 ? null : ranges);
  return scope !== null && scope.id === id ? scope : null;
}
