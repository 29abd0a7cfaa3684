#!/usr/bin/env bash
# The whole test suite: lint, format, type check, the import, function-length and doc-lint gates,
# then every *_test.ts. Ends with one line "N passed, N failed" (each gate counts as one test) so CI
# can read the outcome.
set -u
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
export DENO_NO_UPDATE_CHECK=1 NO_COLOR=1
passed=0 failed=0
gate() { # name, command…
  local name=$1; shift
  if "$@"; then passed=$((passed + 1)); echo "gate $name: ok"; else failed=$((failed + 1)); echo "gate $name: FAILED"; fi
}
gate lint deno lint -q
gate fmt deno fmt --check -q
gate check deno check -q mod.ts $(find src cli tests scripts -name '*.ts' 2>/dev/null | sort)
gate imports deno run -q -R scripts/check_imports.ts
gate function-length deno lint -q --rules-tags= src
gate doc-lint deno run -q -R --allow-run scripts/check_doc_lint.ts
log=$(mktemp)
deno test -q -P=test "$@" 2>&1 | tee "$log"
summary=$(grep -E '^(ok|FAILED) \| [0-9]+ passed' "$log" | tail -1)
if [ -n "$summary" ]; then
  p=$(sed -E 's/.*\| ([0-9]+) passed.*/\1/' <<<"$summary")
  f=$(sed -E 's/.*\| ([0-9]+) failed.*/\1/' <<<"$summary")
  passed=$((passed + p)) failed=$((failed + f))
else
  echo "deno test produced no summary"; failed=$((failed + 1))
fi
rm -f "$log"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
