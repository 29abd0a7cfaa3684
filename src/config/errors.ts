/** Config errors with positions: `PATH:LINE:COL: message`. @module */

/**
 * One problem in a config file. `line` and `column` are 1-based (columns count characters, a
 * tab is one); both are 0 when the problem concerns the whole file (unreadable, permissions).
 */
export interface ConfigIssue {
  /** The config file the problem is in. */
  readonly path: string;
  /** 1-based line; 0 for the whole file. */
  readonly line: number;
  /** 1-based column; 0 for the whole file. */
  readonly column: number;
  /** What was expected and what was found. */
  readonly message: string;
}

/** Formats one issue as `PATH:LINE:COL: message`, or `PATH: message` for whole-file issues. */
export function formatIssue(issue: ConfigIssue): string {
  return issue.line === 0
    ? `${issue.path}: ${issue.message}`
    : `${issue.path}:${issue.line}:${issue.column}: ${issue.message}`;
}

/** Thrown by `loadConfig`/`parseConfig`: every problem found, in file order. */
export class ConfigError extends Error {
  /** Always `"ConfigError"`. */
  override name = "ConfigError";
  /** All problems, sorted by line then column (whole-file problems first). */
  readonly errors: readonly ConfigIssue[];

  /** An error listing every issue, one `formatIssue` line each. */
  constructor(errors: readonly ConfigIssue[]) {
    const sorted = [...errors].sort((a, b) => a.line - b.line || a.column - b.column);
    super(sorted.map(formatIssue).join("\n"));
    this.errors = Object.freeze(sorted.map((e) => Object.freeze({ ...e })));
  }

  /** One `PATH:LINE:COL: message` per line. */
  override toString(): string {
    return this.message;
  }
}
