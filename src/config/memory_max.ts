/**
 * The systemd unit's `MemoryMax=` against `memory_ceiling_mb`: scripts/install.sh writes
 * `fail2zig.service.d/memory.conf` with `MemoryMax = memory_ceiling_mb + MEMORY_MAX_MARGIN_MB`
 * MiB; `config check` reads the installed unit and its drop-ins and warns when the effective
 * value disagrees (below it, the kernel kills the daemon before the daemon's own ceiling acts).
 * @module
 */

/** MiB the unit allows above `memory_ceiling_mb` (systemd counts page cache the daemon does not). */
export const MEMORY_MAX_MARGIN_MB = 32;
/** Where scripts/install.sh puts the unit (override: `config check --unit-dir`). */
export const DEFAULT_UNIT_DIR = "/etc/systemd/system";
/** The unit's file name. */
export const UNIT_NAME = "fail2zig.service";

/** An effective `MemoryMax=` and where it was set. */
export interface UnitMemoryMax {
  /** The value as written (`160M`, `1G`, `infinity`, …). */
  value: string;
  /** Bytes; `Infinity` for `infinity`; null when not comparable (a percentage, a typo). */
  bytes: number | null;
  /** The unit file or drop-in that set it. */
  path: string;
  /** 1-based line of the assignment. */
  line: number;
}

const UNITS: Record<string, number> = { "": 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 };

/** Bytes of a `MemoryMax=` value (systemd's 1024-based suffixes); null when not comparable. */
export function memoryMaxBytes(value: string): number | null {
  if (value === "infinity") return Infinity;
  const m = /^([0-9]+(?:\.[0-9]+)?)([KMGT]?)$/.exec(value);
  return m === null ? null : Math.round(Number(m[1]) * UNITS[m[2]!]!);
}

/** The last `MemoryMax=` of the `[Service]` sections of `text` (unit file syntax), or null. */
function lastMemoryMax(text: string, path: string): UnitMemoryMax | null {
  let section = "";
  let found: UnitMemoryMax | null = null;
  for (const [i, raw] of text.split("\n").entries()) {
    const line = raw.trim();
    if (line.startsWith("[")) section = line;
    const m = /^MemoryMax\s*=\s*(.*)$/.exec(line);
    if (m === null || section !== "[Service]") continue;
    const value = m[1]!.trim();
    // An empty assignment resets to the default: no limit.
    found = { value, bytes: value === "" ? Infinity : memoryMaxBytes(value), path, line: i + 1 };
  }
  return found;
}

function readIfExists(path: string): string | null {
  try {
    return Deno.readTextFileSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory) return null;
    throw e;
  }
}

/**
 * The effective `MemoryMax=` of the unit installed in `unitDir`: its unit file, overridden by
 * its drop-ins `UNIT.d/*.conf` in file-name order (systemd's rule: the last assignment wins).
 * Null when neither sets it (or nothing is installed there).
 */
export function unitMemoryMax(unitDir: string): UnitMemoryMax | null {
  const unit = `${unitDir}/${UNIT_NAME}`;
  let found = lastMemoryMax(readIfExists(unit) ?? "", unit);
  const dropins: string[] = [];
  try {
    for (const e of Deno.readDirSync(`${unit}.d`)) {
      if (e.name.endsWith(".conf")) dropins.push(e.name);
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory)) throw e;
  }
  for (const name of dropins.sort()) {
    const path = `${unit}.d/${name}`;
    found = lastMemoryMax(readIfExists(path) ?? "", path) ?? found;
  }
  return found;
}

/**
 * The warning `config check` prints when the unit's `MemoryMax` is not `ceilingMb` + the margin,
 * or null when it agrees (or is not set).
 */
export function memoryMaxWarning(set: UnitMemoryMax | null, ceilingMb: number): string | null {
  if (set === null) return null;
  const wantMb = ceilingMb + MEMORY_MAX_MARGIN_MB;
  if (set.bytes === wantMb * 2 ** 20) return null;
  const why = set.bytes === null
    ? "cannot be compared with it"
    : set.bytes < wantMb * 2 ** 20
    ? "is below it: the kernel kills the daemon before its own ceiling acts"
    : "is above it: the unit no longer bounds the daemon at its ceiling";
  return `${set.path}:${set.line}: warning: MemoryMax=${set.value} disagrees with ` +
    `memory_ceiling_mb = ${ceilingMb} (+ ${MEMORY_MAX_MARGIN_MB} MiB = ${wantMb}M) and ${why}; ` +
    `run scripts/install.sh again (it rewrites ${UNIT_NAME}.d/memory.conf) or set MemoryMax=${wantMb}M`;
}
