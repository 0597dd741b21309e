#!/usr/bin/env bash
# Builds Image Factory's schematic-id tool (../shared/tools/schematic-id: image-factory's own
# pkg/schematic from Go modules) into the cache the tests read ($SCHEMATIC_ID_DIR, default
# ~/.cache/schematic-id). A cached binary is reused; without Go or ../shared it says so and exits 0,
# and the schematic-ID tests skip with a message.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
shared=${SHARED_DIR:-$root/../shared}
out=${SCHEMATIC_ID_DIR:-$HOME/.cache/schematic-id}
if [[ ! -x $shared/tools/schematic-id/build.sh ]]; then
  echo "schematic-id: $shared/tools/schematic-id absent; schematic-ID tests will skip"
  exit 0
fi
if ! command -v go >/dev/null 2>&1; then
  echo "schematic-id: Go not installed; schematic-ID tests will skip"
  exit 0
fi
start=$(date +%s)
if bin=$(bash "$shared/tools/schematic-id/build.sh" "$out"); then
  echo "schematic-id: ready at $bin ($(( $(date +%s) - start ))s)"
else
  echo "schematic-id: build failed; schematic-ID tests will skip"
fi
