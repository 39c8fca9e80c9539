#!/usr/bin/env bash
# Sets everything up (scripts/setup.sh) and runs every test (vitest), exiting non-zero on a
# failure. Extra arguments go to vitest (e.g. a test file). Leaves no JupyterLab running.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/setup.sh

mkdir -p .tmp
results=.tmp/vitest-results.json
rm -f "$results"
status=0
npx vitest run --reporter=default --reporter=json --outputFile.json="$results" "$@" || status=$?

# One plain closing line with the counts.
if [[ -f $results ]]; then
  node -e '
    const r = require(process.argv[1]);
    const skipped = r.numPendingTests + r.numTodoTests;
    console.log(`vitest: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${skipped} skipped`);
  ' "$ROOT/$results"
fi
exit "$status"
