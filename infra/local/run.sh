#!/usr/bin/env bash
# Runs the function app locally on http://127.0.0.1:7071 against Azurite on its default ports
# (10000 blobs, 10001 queues, 10002 tables): the app's build (an isolated-worker app) run by the local
# Functions host (infra/local/FunctionsHost), which starts the app's worker process as Azure Functions does.
# Installs Azurite from npm on first use, starts it with its data in .azurite/ (unless one is already
# listening), creates local.settings.json from the sample on first run, and stops Azurite again when the
# host stops (Ctrl-C).
set -euo pipefail
# shellcheck source=infra/local/ensure-azurite.sh
source "$(dirname "${BASH_SOURCE[0]}")/ensure-azurite.sh"

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

azurite_pid=""
app_pid=""
# Ctrl-C, a TERM from a supervisor, or the app ending: stop the app (gracefully), then our Azurite.
stop() {
  trap - EXIT INT TERM
  [ -n "$app_pid" ] && kill -TERM "$app_pid" 2>/dev/null && wait "$app_pid" 2>/dev/null
  [ -n "$azurite_pid" ] && kill "$azurite_pid" 2>/dev/null
  exit "${1:-0}"
}
trap 'stop 130' INT
trap 'stop 143' TERM
trap 'stop $?' EXIT

if listening 10001; then
  echo "Azurite (or another storage emulator) is already listening on 127.0.0.1:10001; using it."
else
  mkdir -p "$root/.azurite"
  echo "Starting Azurite (data in .azurite/, log in .azurite/azurite.log)..."
  "$azurite" --skipApiVersionCheck --disableTelemetry --location "$root/.azurite" \
    --blobHost 127.0.0.1 --queueHost 127.0.0.1 --tableHost 127.0.0.1 >"$root/.azurite/azurite.log" 2>&1 &
  azurite_pid=$!
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
if [ ! -f local.settings.json ]; then
  cp local.settings.sample.json local.settings.json
  echo "Created local.settings.json from local.settings.sample.json (safe local values; edit it to change a setting)."
fi
dotnet build functions --nologo -v quiet
dotnet build infra/local/FunctionsHost --nologo -v quiet
echo "Starting the local Functions host with the function app: http://127.0.0.1:7071/api/health (Ctrl-C stops it)"
# The host is run directly, not through 'dotnet run', so that signals reach it and it stops the worker gracefully.
dotnet infra/local/FunctionsHost/bin/Debug/net10.0/DecentCloud.FunctionsHost.dll functions/bin/Debug/net10.0 "$@" &
app_pid=$!
wait "$app_pid"
