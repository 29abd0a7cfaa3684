/**
 * The systemd journal native protocol (what `sd_journal_send` writes to
 * `/run/systemd/journal/socket`): one datagram of fields, each either `NAME=value\n` or, when
 * the value holds a newline (or any byte that could be misread), `NAME\n` + value length as
 * u64 little-endian + value + `\n`. Pure: no Deno API. The decoder exists for tests and tools.
 * @module
 */

/** Longest field name journald accepts. */
export const MAX_FIELD_NAME = 64;

const encoder = new TextEncoder();

/**
 * Maps any key to a valid journal field name: upper case, `[A-Z0-9_]` only, not starting with
 * `_` (journald drops client fields with a leading underscore: those are its trusted fields) or
 * a digit, at most 64 characters.
 */
export function journalFieldName(key: string): string {
  let name = key.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toUpperCase().replace(/[^A-Z0-9_]/g, "_");
  name = name.replace(/^_+/, "");
  if (name === "" || /^[0-9]/.test(name)) name = `F_${name}`;
  return name.slice(0, MAX_FIELD_NAME);
}

/** True when `name` is already a valid journal field name for a client. */
export function isJournalFieldName(name: string): boolean {
  return name.length <= MAX_FIELD_NAME && /^[A-Z][A-Z0-9_]*$/.test(name);
}

/**
 * Encodes fields into one native-protocol datagram. Values with a newline use the binary
 * length form, so no value can inject a field. Throws on an invalid field name.
 */
export function encodeJournalEntry(fields: readonly (readonly [string, string])[]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const [name, value] of fields) {
    if (!isJournalFieldName(name)) {
      throw new RangeError(
        `expected a journal field name [A-Z][A-Z0-9_]*, found ${JSON.stringify(name)}`,
      );
    }
    const v = encoder.encode(value);
    if (v.includes(10)) {
      const head = encoder.encode(`${name}\n`);
      const len = new Uint8Array(8);
      new DataView(len.buffer).setBigUint64(0, BigInt(v.length), true);
      parts.push(head, len, v, encoder.encode("\n"));
    } else {
      parts.push(encoder.encode(`${name}=`), v, encoder.encode("\n"));
    }
  }
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Decodes a native-protocol datagram into its fields, in order. Throws on malformed input. */
export function decodeJournalEntry(bytes: Uint8Array): [string, string][] {
  const dec = new TextDecoder("utf-8", { fatal: true });
  const out: [string, string][] = [];
  let pos = 0;
  while (pos < bytes.length) {
    let nl = bytes.indexOf(10, pos);
    const eq = bytes.indexOf(61, pos); // '='
    if (eq !== -1 && (nl === -1 || eq < nl)) {
      if (nl === -1) throw new SyntaxError(`field at byte ${pos} has no terminating newline`);
      out.push([dec.decode(bytes.subarray(pos, eq)), dec.decode(bytes.subarray(eq + 1, nl))]);
      pos = nl + 1;
      continue;
    }
    if (nl === -1) throw new SyntaxError(`field at byte ${pos} has no '=' and no newline`);
    const name = dec.decode(bytes.subarray(pos, nl));
    if (nl + 9 > bytes.length) throw new SyntaxError(`binary field ${name} is missing its length`);
    const len = new DataView(bytes.buffer, bytes.byteOffset + nl + 1, 8).getBigUint64(0, true);
    const start = nl + 9;
    const end = start + Number(len);
    if (len > BigInt(bytes.length) || end >= bytes.length || bytes[end] !== 10) {
      throw new SyntaxError(`binary field ${name} announces ${len} bytes; the datagram disagrees`);
    }
    out.push([name, dec.decode(bytes.subarray(start, end))]);
    nl = end;
    pos = nl + 1;
  }
  return out;
}
