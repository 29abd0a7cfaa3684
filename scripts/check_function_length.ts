/**
 * A `deno lint` plugin (registered in deno.json, so `deno lint` enforces it): no function,
 * method, getter, constructor or arrow function in `src/` spans more than
 * {@linkcode MAX_FUNCTION_LINES} lines, counted from the line of its signature to the line of its
 * closing brace. The rule reads the parser's syntax tree, so strings, comments, template literals
 * and regular expressions cannot confuse it.
 *
 *   deno lint                                             all rules, this one included
 *   deno lint -q --rules-tags= src                        this rule only (the test.sh gate)
 * @module
 */

/** The most lines a function in `src/` may span, signature and closing brace included. */
export const MAX_FUNCTION_LINES = 120;

/** The repository-relative path of a linted file (`src/…`), or `null` outside `src/`. */
function repoPath(filename: string): string | null {
  // the last `src/` of the path: a checkout may itself live under some other `src/`
  const m = /^(?:.*[\\/])?(src[\\/].*)$/.exec(filename);
  return m === null ? null : m[1]!.split("\\").join("/");
}

type FunctionNode =
  | Deno.lint.FunctionDeclaration
  | Deno.lint.FunctionExpression
  | Deno.lint.ArrowFunctionExpression;

/** The lint plugin; its one rule is `gates/function-length`. */
const plugin: Deno.lint.Plugin = {
  name: "gates",
  rules: {
    "function-length": {
      create(context) {
        const path = repoPath(context.filename);
        if (path === null) return {}; // the rule applies to src/ only
        const text = context.sourceCode.text;
        const lineAt = (offset: number) => text.slice(0, offset).split("\n").length;
        const check = (node: FunctionNode) => {
          // A method's span starts at its key (the signature), not at the function expression.
          const parent = node.parent;
          const start = parent.type === "MethodDefinition" || parent.type === "Property"
            ? parent.range[0]
            : node.range[0];
          const lines = lineAt(node.range[1]) - lineAt(start) + 1;
          if (lines <= MAX_FUNCTION_LINES) return;
          const name = functionName(node);
          context.report({
            range: [start, Math.min(node.range[1], text.indexOf("\n", start) >>> 0)],
            message: `${name} spans ${lines} lines (more than ${MAX_FUNCTION_LINES})`,
            hint: "split it into named steps",
          });
        };
        return {
          FunctionDeclaration: check,
          FunctionExpression: check,
          ArrowFunctionExpression: check,
        };
      },
    },
  },
};
export default plugin;

/** A readable name for a function: its own, its method key or its variable, else "function". */
function functionName(node: FunctionNode): string {
  if (node.type !== "ArrowFunctionExpression" && node.id) return `function ${node.id.name}`;
  const parent = node.parent;
  if (
    (parent.type === "MethodDefinition" || parent.type === "Property") &&
    parent.key.type === "Identifier"
  ) return `method ${parent.key.name}`;
  if (parent.type === "VariableDeclarator" && parent.id.type === "Identifier") {
    return `function ${parent.id.name}`;
  }
  return "function";
}
