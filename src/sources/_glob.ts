/**
 * `logpath` patterns: absolute paths whose components may hold `*`, `?` and `[…]` (shell glob,
 * Python-glob flavour: a wildcard does not match a leading dot). Pure code, no `Deno.*`; directory
 * listing is passed in.
 * @module
 */

/** Longest accepted pattern, in characters. */
export const PATTERN_MAX_CHARS = 4096;

type Part = string | RegExp;

/** A compiled `logpath`. */
export class PathPattern {
  /** The pattern as configured. */
  readonly text: string;
  readonly #dirParts: readonly Part[];
  readonly #name: Part;

  /** Compiles `text`; throws `SyntaxError` naming the problem when it is not a usable pattern. */
  constructor(text: string) {
    if (!text.startsWith("/")) {
      throw new SyntaxError(`expected an absolute logpath, found '${text}'`);
    }
    if (text.length > PATTERN_MAX_CHARS) {
      throw new SyntaxError(`expected a logpath of at most ${PATTERN_MAX_CHARS} characters`);
    }
    const parts = text.split("/").slice(1).filter((p) => p !== "");
    if (parts.length === 0 || text.endsWith("/")) {
      throw new SyntaxError(`expected a logpath naming a file, found '${text}'`);
    }
    for (const p of parts) {
      if (p === "." || p === "..") {
        throw new SyntaxError(`expected a logpath without '.' or '..', found '${text}'`);
      }
    }
    this.text = text;
    const compiled = parts.map(compilePart);
    this.#name = compiled.pop()!;
    this.#dirParts = compiled;
  }

  /** True when the pattern has no wildcard: it names exactly one path. */
  get literal(): boolean {
    return typeof this.#name === "string" && this.#dirParts.every((p) => typeof p === "string");
  }

  /** True when the directory part has no wildcard. */
  get literalDir(): boolean {
    return this.#dirParts.every((p) => typeof p === "string");
  }

  /**
   * The directory a reader needs read permission on: the deepest directory before the first
   * wildcard (for a literal pattern, the file's own directory — needed to see it being created,
   * renamed or deleted).
   */
  get readRoot(): string {
    const lits: string[] = [];
    for (const p of this.#dirParts) {
      if (typeof p !== "string") break;
      lits.push(p);
    }
    return "/" + lits.join("/");
  }

  /** True when `path` (absolute, normalised) matches the pattern. */
  matches(path: string): boolean {
    const parts = path.split("/");
    if (parts[0] !== "" || parts.length !== this.#dirParts.length + 2) return false;
    for (let i = 0; i < this.#dirParts.length; i++) {
      if (!partMatches(this.#dirParts[i]!, parts[i + 1]!)) return false;
    }
    return partMatches(this.#name, parts[parts.length - 1]!);
  }

  /** True when the final component of a path in a matching directory matches. */
  matchesName(name: string): boolean {
    return partMatches(this.#name, name);
  }

  /**
   * Every existing directory the directory part matches. `listDirs(dir)` returns the names of
   * the sub-directories of `dir`, or null when `dir` cannot be listed (missing).
   */
  directories(listDirs: (dir: string) => string[] | null): string[] {
    let current = ["/"];
    for (const part of this.#dirParts) {
      const next: string[] = [];
      for (const dir of current) {
        if (typeof part === "string") {
          next.push(join(dir, part));
          continue;
        }
        for (const name of listDirs(dir) ?? []) {
          if (partMatches(part, name)) next.push(join(dir, name));
        }
      }
      current = next;
    }
    return current;
  }
}

/** The directories a reader of `patterns` needs read permission on (deduplicated, sorted). */
export function readRoots(patterns: readonly string[]): string[] {
  return outermost(patterns.map((p) => new PathPattern(p).readRoot));
}

/** `paths` without those inside another of them (a root covers what is below it), sorted. */
export function outermost(paths: Iterable<string>): string[] {
  const sorted = [...new Set(paths)].sort();
  return sorted.filter((r) => !sorted.some((o) => o !== r && (o === "/" || r.startsWith(o + "/"))));
}

/** Parent directory of an absolute normalised path. */
export function dirname(path: string): string {
  const i = path.lastIndexOf("/");
  return i <= 0 ? "/" : path.slice(0, i);
}

/** Final component of an absolute normalised path. */
export function basename(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}

/** Joins a directory and a name. */
export function join(dir: string, name: string): string {
  return dir === "/" ? `/${name}` : `${dir}/${name}`;
}

function partMatches(part: Part, name: string): boolean {
  return typeof part === "string" ? part === name : part.test(name);
}

function compilePart(part: string): Part {
  if (!/[*?[]/.test(part)) return part;
  let re = "";
  for (let i = 0; i < part.length; i++) {
    const c = part[i]!;
    if (c === "*") re += "[^/]*";
    else if (c === "?") re += "[^/]";
    else if (c === "[") {
      const end = part.indexOf("]", i + 2);
      if (end < 0) {
        re += "\\[";
        continue;
      }
      let body = part.slice(i + 1, end);
      const negate = body.startsWith("!") || body.startsWith("^");
      if (negate) body = body.slice(1);
      re += `[${negate ? "^" : ""}${body.replace(/[\\\]^]/g, (m) => `\\${m}`)}]`;
      i = end;
    } else re += c.replace(/[.+^${}()|\\\]]/g, (m) => `\\${m}`);
  }
  // Python glob: a wildcard at the start does not match a hidden (dot) name.
  const hidden = part.startsWith(".") ? "" : "(?!\\.)";
  return new RegExp(`^${hidden}${re}$`);
}
