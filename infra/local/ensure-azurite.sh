#!/usr/bin/env bash
# Sourced by run.sh and test.sh: sets $root and $local_dir, and installs Azurite (npm ci in
# infra/local, from package-lock.json) if it is not installed yet.
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
local_dir="$root/infra/local"
azurite="$local_dir/node_modules/.bin/azurite"

if [ ! -x "$azurite" ]; then
  echo "Installing Azurite (npm ci in infra/local)..."
  (cd "$local_dir" && npm ci --no-audit --no-fund --loglevel=error)
fi
