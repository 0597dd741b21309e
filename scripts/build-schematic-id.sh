#!/usr/bin/env bash
# Builds Image Factory's schematic-id tool (../shared/tools/schematic-id: image-factory's own
# pkg/schematic from Go modules) into the cache the tests read ($SCHEMATIC_ID_DIR, default
# ~/.cache/schematic-id); see build-shared-tool.sh.
exec bash "$(dirname "$0")/build-shared-tool.sh" schematic-id "${SCHEMATIC_ID_DIR:-$HOME/.cache/schematic-id}" "schematic-ID tests"
