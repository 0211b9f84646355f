#!/usr/bin/env bash
# The whole test suite, as CI runs it: set-up, type check, lint, format check, then every test
# (unit tests beside the code, integration tests under test/) on Node 24.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
bash scripts/setup.sh
export PATH="$root/node_modules/.bin:$PATH"

echo "== type check" >&2
tsc -p tsconfig.json
tsc -p web/tsconfig.json
echo "== lint" >&2
eslint --max-warnings 0 .
echo "== format" >&2
prettier --check . >/dev/null || { prettier --check . | tail -20; exit 1; }

echo "== tests" >&2
shopt -s globstar nullglob
tests=(src/**/*.test.ts test/**/*.test.ts)
exec node --test --test-concurrency=2 --test-timeout=900000 "$@" "${tests[@]}"
