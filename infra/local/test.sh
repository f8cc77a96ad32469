#!/usr/bin/env bash
# Builds everything (warnings are errors) and runs every test. Tests that need storage start their own
# in-memory Azurite on free ports; this script only makes sure the npm package is installed first.
set -euo pipefail
# shellcheck source=infra/local/ensure-azurite.sh
source "$(dirname "${BASH_SOURCE[0]}")/ensure-azurite.sh"

results="$root/TestResults"
rm -rf "$results"
cd "$root"
status=0
dotnet test DecentCloud.sln --logger "trx" --logger "console;verbosity=minimal" --results-directory "$results" "$@" || status=$?

# One plain closing line over every test project.
passed=0; failed=0; skipped=0
shopt -s nullglob
for trx in "$results"/*.trx; do
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)
  p=$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$counters"); f=$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$counters")
  n=$(sed -n 's/.* notExecuted="\([0-9]*\)".*/\1/p' <<<"$counters")
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0})); skipped=$((skipped + ${n:-0}))
done
echo "tests: $passed passed, $failed failed, $skipped skipped"
if [ -f "$results/invoice-samples/INV-sample.png" ]; then
  echo "sample invoice to look at: $results/invoice-samples/INV-sample.png (and .pdf)"
elif [ -f "$results/invoice-samples/INV-sample.pdf" ]; then
  echo "sample invoice: $results/invoice-samples/INV-sample.pdf (install poppler-utils for a PNG of it)"
fi
if [ "$status" -eq 0 ] && [ "$passed" -eq 0 ]; then
  echo "No test ran." >&2
  exit 1
fi
exit "$status"
