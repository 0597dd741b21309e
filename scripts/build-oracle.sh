#!/usr/bin/env bash
# Builds Sidero's machinery oracle (../shared/tools/talos-oracle) into the cache the tests read
# ($TALOS_ORACLE_DIR, default ~/.cache/talos-oracle); see build-shared-tool.sh.
exec bash "$(dirname "$0")/build-shared-tool.sh" talos-oracle "${TALOS_ORACLE_DIR:-$HOME/.cache/talos-oracle}" "oracle tests"
