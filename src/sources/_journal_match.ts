/**
 * `journal_match` rules: `FIELD=value` strings; values of the same field are OR-ed, different
 * fields AND-ed (journalctl's rule). Pure code. The rules are passed to journalctl and checked
 * again on every record received, so a record from another unit never reaches a filter even if
 * journalctl's matching were to differ.
 * @module
 */

/** Longest accepted match string, in characters. */
export const MATCH_MAX_CHARS = 1024;

const FIELD = /^[A-Z_][A-Z0-9_]{0,63}$/;

/** Compiled match rules. */
export class JournalMatch {
  /** The match strings, validated, in the order given (journalctl arguments). */
  readonly args: readonly string[];
  /** Field name → accepted values (UTF-8 bytes). */
  readonly #rules: Map<string, Uint8Array[]>;

  /** Validates `matches`; throws `SyntaxError` naming the first bad one. */
  constructor(matches: readonly string[]) {
    if (matches.length === 0) {
      throw new SyntaxError("expected at least one journal match (FIELD=value), found none");
    }
    const rules = new Map<string, Uint8Array[]>();
    const enc = new TextEncoder();
    for (const m of matches) {
      const eq = m.indexOf("=");
      const field = eq < 0 ? m : m.slice(0, eq);
      if (eq < 0 || !FIELD.test(field)) {
        throw new SyntaxError(
          `expected a journal match FIELD=value with FIELD of A-Z, 0-9 and _, found '${
            m.slice(0, 80)
          }'`,
        );
      }
      if (m.length > MATCH_MAX_CHARS || /[\0\n]/.test(m)) {
        throw new SyntaxError(
          `expected a journal match without newline or NUL of at most ${MATCH_MAX_CHARS} characters`,
        );
      }
      const list = rules.get(field) ?? [];
      list.push(enc.encode(m.slice(eq + 1)));
      rules.set(field, list);
    }
    this.args = [...matches];
    this.#rules = rules;
  }

  /** The field names the rules look at. */
  get fields(): string[] {
    return [...this.#rules.keys()];
  }

  /** True when a record with these fields satisfies every field's rule. */
  test(fields: ReadonlyMap<string, readonly Uint8Array[]>): boolean {
    for (const [field, accepted] of this.#rules) {
      const values = fields.get(field);
      if (values === undefined || !values.some((v) => accepted.some((a) => equal(a, v)))) {
        return false;
      }
    }
    return true;
  }
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
