/**
 * Records held by the state file. The tracker produces and consumes the ban, history and failure
 * records; the sources own the opaque position records.
 * @module
 */

/** An active ban. */
export interface StateBan {
  /** Jail name (jails are matched by name on load, so a reordered config keeps its bans). */
  readonly jail: string;
  /** Canonical address text; the network address when `prefix` is shorter than the family. */
  readonly ip: string;
  /** 32 for IPv4 (always), 16..128 for IPv6. */
  readonly prefix: number;
  /** Optional: the address as 4 or 16 network-order bytes, host bits clear (saves a parse). */
  readonly addr?: Uint8Array;
  /** ms since the epoch. */
  readonly bannedAt: number;
  /** ms since the epoch; `null` for a permanent ban. */
  readonly expiresAt: number | null;
  /** Bans of this address in this jail, this one included (≥ 1). */
  readonly banCount: number;
}

/** Ban history of an address that is not banned now (feeds `bantime_increment`). */
export interface StateHistory {
  /** Jail name, as in `StateBan`. */
  readonly jail: string;
  /** Canonical address text, as in `StateBan`. */
  readonly ip: string;
  /** Prefix length, as in `StateBan`. */
  readonly prefix: number;
  /** Optional, as in `StateBan`. */
  readonly addr?: Uint8Array;
  /** Previous bans (≥ 1). */
  readonly banCount: number;
  /** When the last ban began, ms since the epoch. */
  readonly lastBanAt: number;
}

/** Recent failure times of a tracked address (best effort; see docs/state.md). */
export interface StateFailures {
  /** The jail the failures count for. */
  readonly jail: string;
  /** Canonical address text, as in `StateBan`. */
  readonly ip: string;
  /** Prefix length, as in `StateBan`. */
  readonly prefix: number;
  /** Optional, as in `StateBan`. */
  readonly addr?: Uint8Array;
  /** ms since the epoch, ascending; at most `MAX_FAILURE_TIMES`. */
  readonly times: readonly number[];
}

/** An opaque read position owned by a source (file offset and fingerprint, journal cursor…). */
export interface StatePosition {
  /** Unique key chosen by the source, e.g. `file:/var/log/auth.log` (≤ 4096 UTF-8 bytes). */
  readonly key: string;
  /** Source-defined bytes (≤ 64 KiB). */
  readonly data: Uint8Array;
}

/** A runtime ignore entry (`client ignore add`). */
export interface StateIgnore {
  /** Canonical address or CIDR text, host bits clear. */
  readonly cidr: string;
  /** The jail it applies to, or `null` for every jail. */
  readonly jail: string | null;
}

/** The audit chain's head when the state was saved: where the next audit record goes on. */
export interface StateAuditHead {
  /** seq of the next record (the last record's seq + 1). */
  readonly seq: number;
  /** SHA-256 (64 hex digits) of the last record: the next record's `prev`. */
  readonly prev: string;
}

/** What is written: iterables so that large tables stream without being copied into arrays. */
export interface StateInput {
  /** ms since the epoch at which the snapshot was taken. */
  readonly savedAt: number;
  /** The audit chain's head; absent or null: no audit log (or a version 1 file). */
  readonly audit?: StateAuditHead | null;
  /** Active bans. */
  readonly bans: Iterable<StateBan>;
  /** Ban history of addresses not banned now. */
  readonly history: Iterable<StateHistory>;
  /** Recent failures of tracked addresses. */
  readonly failures: Iterable<StateFailures>;
  /** Read positions of the sources. */
  readonly positions: Iterable<StatePosition>;
  /** Runtime ignore entries; absent: none. */
  readonly ignores?: Iterable<StateIgnore>;
}

/** What is read back. */
export interface StateData extends StateInput {
  /** The audit chain's head; null when the file has none (no audit log, or version 1). */
  readonly audit: StateAuditHead | null;
  /** Active bans, as read. */
  readonly bans: StateBan[];
  /** Ban history, as read. */
  readonly history: StateHistory[];
  /** Recent failures, as read. */
  readonly failures: StateFailures[];
  /** Read positions, as read. */
  readonly positions: StatePosition[];
  /** Runtime ignore entries, as read (empty when none were saved). */
  readonly ignores: StateIgnore[];
}
