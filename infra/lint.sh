#!/usr/bin/env bash
# Compiles infra/main.bicep to an ARM template and lints it with the Bicep CLI from NuGet (package
# Azure.Bicep.CommandLine.linux-x64, its version in infra/bicep/bicep-cli.csproj). The linter rules are set to
# "error" in infra/bicepconfig.json, and any warning the compiler or the linter still prints fails this script too.
#
#   bash infra/lint.sh                  compile and lint
#   bash infra/lint.sh --out FILE       also write the compiled ARM template to FILE
#
# Needs only the .NET SDK; the first run downloads the package (about 115 MB) into the NuGet packages folder.
set -euo pipefail

infra="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
template="$infra/main.bicep"
project="$infra/bicep/bicep-cli.csproj"

out=""
if [ "${1:-}" = "--out" ] && [ -n "${2:-}" ]; then
  out="$2"
elif [ $# -gt 0 ]; then
  echo "usage: bash infra/lint.sh [--out FILE]" >&2
  exit 2
fi

if ! dotnet restore "$project" --nologo -v:q >&2; then
  echo "lint.sh: could not restore the Bicep CLI from NuGet ($project)" >&2
  exit 1
fi
bicep="$(dotnet msbuild "$project" -nologo -v:q -getProperty:BicepPath)"
if [ ! -f "$bicep" ]; then
  echo "lint.sh: the Bicep CLI is not at '$bicep' after the restore" >&2
  exit 1
fi
[ -x "$bicep" ] || chmod u+x "$bicep"
echo "$("$bicep" --version)" >&2

# Runs one Bicep command; fails on a non-zero exit and on any "Warning" it prints.
run() {
  local what="$1"
  shift
  local log status=0
  log="$(mktemp)"
  "$@" 2>"$log" || status=$?
  cat "$log" >&2
  if [ "$status" -ne 0 ]; then
    echo "lint.sh: bicep $what failed (exit $status)" >&2
    rm -f "$log"
    exit 1
  fi
  if grep -q ': Warning ' "$log"; then
    echo "lint.sh: bicep $what printed warnings; they count as failures" >&2
    rm -f "$log"
    exit 1
  fi
  rm -f "$log"
}

compiled="$(mktemp)"
trap 'rm -f "$compiled"' EXIT
run build "$bicep" build "$template" --stdout >"$compiled"
run lint "$bicep" lint "$template"

if [ -n "$out" ]; then
  cp "$compiled" "$out"
fi
echo "lint.sh: $template compiles and lints clean" >&2
