#!/usr/bin/env bash
# Runs Biome (lint + format check). The registry reachable here serves Biome's linux-x64 binary
# package only, so the project depends on that package directly (optional); elsewhere an
# installed `biome` on PATH is used.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=node_modules/@biomejs/cli-linux-x64/biome
if [[ ! -x $bin ]]; then bin=$(command -v biome || true); fi
if [[ -z $bin ]]; then
  echo "lint: Biome not found (npm ci installs it on linux-x64; elsewhere install @biomejs/biome 2.6.8)" >&2
  exit 1
fi
exec "$bin" check "$@" .
