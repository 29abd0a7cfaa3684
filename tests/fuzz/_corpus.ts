/**
 * The corpus on disk: `fixtures/fuzz/TARGET/HASH.json` holds one input that reached new coverage
 * in a `deno task fuzz` run; `crash-HASH.json` and `timeout-HASH.json` hold inputs that failed the
 * property or overran the target's time bound. Both kinds are replayed by tests/fuzz/fuzz_test.ts;
 * each reproducer is a test of its own.
 * @module
 */
import { createHash } from "node:crypto";
import { decodeInput, encodeInput } from "./_input.ts";

/** Where the corpora live: fixtures/fuzz/, or `FUZZ_CORPUS_DIR` (the tests of scripts/fuzz.ts). */
export const CORPUS_ROOT: URL = Deno.env.get("FUZZ_CORPUS_DIR")
  ? new URL(`file://${Deno.env.get("FUZZ_CORPUS_DIR")!.replace(/\/?$/, "/")}`)
  : new URL("../../fixtures/fuzz/", import.meta.url);

/** Encoded inputs larger than this are not kept in the corpus (the whole stays small). */
export const MAX_ENTRY_BYTES = 2048;
/** A target's corpus stops growing past this many bytes. */
export const MAX_TARGET_BYTES = 10 * 1024;

/** One stored input. */
export interface Entry {
  readonly file: string;
  readonly kind: "corpus" | "crash" | "timeout";
  readonly text: string;
  readonly input: unknown;
}

/** The directory of `target`'s corpus. */
export function corpusDir(target: string): URL {
  return new URL(`${target}/`, CORPUS_ROOT);
}

/** Every stored input of `target`, sorted by file name. */
export function readEntries(target: string): Entry[] {
  const dir = corpusDir(target);
  let names: string[];
  try {
    names = [...Deno.readDirSync(dir)].filter((e) => e.isFile && e.name.endsWith(".json"))
      .map((e) => e.name).sort();
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    throw e;
  }
  return names.map((file) => {
    const text = Deno.readTextFileSync(new URL(file, dir));
    const kind = file.startsWith("crash-")
      ? "crash"
      : file.startsWith("timeout-")
      ? "timeout"
      : "corpus";
    return { file, kind, text, input: decodeInput(text) };
  });
}

/** Writes `input` under `kind`; returns the file name (content-addressed, so never twice). */
export function writeEntry(target: string, kind: Entry["kind"], input: unknown): string {
  const text = encodeInput(input);
  const hash = createHash("sha256").update(text).digest("hex").slice(0, 12);
  const file = kind === "corpus" ? `${hash}.json` : `${kind}-${hash}.json`;
  Deno.mkdirSync(corpusDir(target), { recursive: true });
  Deno.writeTextFileSync(new URL(file, corpusDir(target)), text);
  return file;
}
