#!/usr/bin/env bash
# Builds Sidero's machinery oracle (../shared/tools/talos-oracle) into the cache the tests read
# ($TALOS_ORACLE_DIR, default ~/.cache/talos-oracle). Cached binaries are reused; without Go or
# ../shared it says so and exits 0, and the oracle tests skip with a message.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
shared=${SHARED_DIR:-$root/../shared}
out=${TALOS_ORACLE_DIR:-$HOME/.cache/talos-oracle}
if [[ ! -x $shared/tools/talos-oracle/build.sh ]]; then
  echo "talos-oracle: $shared/tools/talos-oracle absent; oracle tests will skip"
  exit 0
fi
if ! command -v go >/dev/null 2>&1; then
  echo "talos-oracle: Go not installed; oracle tests will skip"
  exit 0
fi
start=$(date +%s)
if bash "$shared/tools/talos-oracle/build.sh" "$out"; then
  echo "talos-oracle: ready in $out ($(( $(date +%s) - start ))s)"
else
  echo "talos-oracle: build failed; oracle tests will skip"
fi
