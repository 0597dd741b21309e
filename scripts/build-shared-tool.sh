#!/usr/bin/env bash
# Builds one of ../shared/tools/<tool> (its own build.sh, from Go modules) into the cache the tests
# read. Cached binaries are reused (build.sh decides); without Go or ../shared it says so and exits
# 0, and the tests that need the tool skip with a message.
#   build-shared-tool.sh <tool> <cache dir> <the tests that skip without it>
set -uo pipefail
tool=$1 out=$2 tests=$3
root=$(cd "$(dirname "$0")/.." && pwd)
shared=${SHARED_DIR:-$root/../shared}
if [[ ! -x $shared/tools/$tool/build.sh ]]; then
  echo "$tool: $shared/tools/$tool absent; $tests will skip"
  exit 0
fi
source "$root/scripts/skip-without-go.sh"
skip_without_go "$tool" "$tests"
start=$(date +%s)
if bash "$shared/tools/$tool/build.sh" "$out"; then
  echo "$tool: ready in $out ($(( $(date +%s) - start ))s)"
else
  echo "$tool: build failed; $tests will skip"
fi
