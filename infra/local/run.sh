#!/usr/bin/env bash
# Runs the function app locally on http://127.0.0.1:7071 against Azurite on its default ports
# (10000 blobs, 10001 queues, 10002 tables). Installs Azurite from npm on first use, starts it with
# its data in .azurite/ (unless one is already listening), creates local.settings.json from the sample
# on first run (the app does that), and stops Azurite again when the app stops (Ctrl-C).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
local_dir="$root/infra/local"

if [ ! -x "$local_dir/node_modules/.bin/azurite" ]; then
  echo "Installing Azurite (npm ci in infra/local)..."
  (cd "$local_dir" && npm ci --no-audit --no-fund --loglevel=error)
fi

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

if listening 10001; then
  echo "Azurite (or another storage emulator) is already listening on 127.0.0.1:10001; using it."
else
  mkdir -p "$root/.azurite"
  echo "Starting Azurite (data in .azurite/, log in .azurite/azurite.log)..."
  "$local_dir/node_modules/.bin/azurite" --skipApiVersionCheck --disableTelemetry --location "$root/.azurite" \
    --blobHost 127.0.0.1 --queueHost 127.0.0.1 --tableHost 127.0.0.1 >"$root/.azurite/azurite.log" 2>&1 &
  azurite_pid=$!
  trap 'kill "$azurite_pid" 2>/dev/null || true' EXIT
  for _ in $(seq 1 150); do
    if listening 10000 && listening 10001 && listening 10002; then break; fi
    if ! kill -0 "$azurite_pid" 2>/dev/null; then
      echo "Azurite stopped while starting:" >&2
      cat "$root/.azurite/azurite.log" >&2
      exit 1
    fi
    sleep 0.2
  done
  listening 10002 || { echo "Azurite did not listen within 30 s; see .azurite/azurite.log" >&2; exit 1; }
fi

cd "$root"
echo "Starting the function app: http://127.0.0.1:7071/api/health"
dotnet run --project functions "$@"
