#!/usr/bin/env bash
# Provides the Pulumi engine (CLI) at exactly the version of @pulumi/pulumi in package.json, plus
# the two plugin launchers the engine looks up on PATH:
#   pulumi-resource-pulumi-nodejs   dynamic providers (preloads tsx, so closures may require .ts files)
#   pulumi-analyzer-policy-nodejs   CrossGuard policy packs (run with cwd = the pack dir; ts-node loads index.ts)
#
# A `pulumi` already on PATH is used (symlinked into the bin dir) when its version matches;
# otherwise the CLI is built from Go modules into a cache outside the repo, so another clone on
# the same machine reuses it. Idempotent: a second run only checks and rewrites the launchers.
#
#   PULUMI_ENGINE_DIR   the bin dir (default ~/.cache/proxmox-talos/pulumi-<version>/bin)
#   PULUMI_ENGINE_FORCE_BUILD=1  build even when a matching pulumi is on PATH
#
# The last line printed is the bin dir; stacks/ prepends it to PATH.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
say() { echo "pulumi-engine: $*" >&2; }
die() { echo "pulumi-engine: error: $*" >&2; exit 1; }

command -v node >/dev/null 2>&1 || die "node is not installed (needed to read package.json and run the launchers)"
version=$(node -p 'require(process.argv[1]).dependencies["@pulumi/pulumi"]' "$root/package.json" 2>/dev/null) ||
  die "cannot read the @pulumi/pulumi version from $root/package.json"
[[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] ||
  die "@pulumi/pulumi must be pinned to an exact version in package.json (found '$version')"

bindir=${PULUMI_ENGINE_DIR:-$HOME/.cache/proxmox-talos/pulumi-$version/bin}
mkdir -p "$bindir"
bindir=$(cd "$bindir" && pwd)
start=$(date +%s)

# Prints the bare version (3.250.0) a pulumi binary reports, or nothing.
version_of() { "$1" version 2>/dev/null | head -n1 | sed -e 's/^v//' -e 's/[[:space:]].*$//' || true; }

have_engine=""
if [[ -x $bindir/pulumi && ! -L $bindir/pulumi && $(version_of "$bindir/pulumi") == "$version" ]]; then
  say "cached pulumi v$version in $bindir"
  have_engine=1
elif [[ -z ${PULUMI_ENGINE_FORCE_BUILD:-} ]]; then
  # A pulumi on PATH (other than our own launcher dir) with the same version.
  onpath=""
  while IFS= read -r candidate; do
    [[ $(cd "$(dirname "$candidate")" && pwd) == "$bindir" ]] && continue
    onpath=$candidate
    break
  done < <(type -ap pulumi 2>/dev/null || true)
  if [[ -n $onpath ]]; then
    found=$(version_of "$onpath")
    if [[ $found == "$version" ]]; then
      say "using pulumi v$version from PATH ($onpath)"
      ln -sfn "$onpath" "$bindir/pulumi"
      have_engine=1
    else
      say "pulumi on PATH is v${found:-unknown}, need v$version: building it"
    fi
  fi
fi

if [[ -z $have_engine ]]; then
  command -v go >/dev/null 2>&1 ||
    die "Go is not installed; install Go (https://go.dev/dl) or Pulumi v$version (https://www.pulumi.com/docs/install/)"
  src="$(dirname "$bindir")/src"
  mkdir -p "$src"
  export GOTOOLCHAIN=local GOFLAGS=-mod=mod
  say "checking the Go module proxy for github.com/pulumi/pulumi/pkg/v3@v$version"
  if ! timeout 120 go list -m -json "github.com/pulumi/pulumi/pkg/v3@v$version" >"$src/probe.log" 2>&1; then
    die "Go module proxy unreachable or refused github.com/pulumi/pulumi/pkg/v3@v$version ($(tail -n1 "$src/probe.log"))"
  fi
  cat >"$src/go.mod" <<EOF
module proxmox-talos/pulumi-engine

go 1.23

require (
	github.com/pulumi/pulumi/pkg/v3 v$version
	github.com/pulumi/pulumi/sdk/v3 v$version
)

replace github.com/atotto/clipboard => github.com/tgummerer/clipboard v0.0.0-20241001131231-d02d263e614e
EOF
  say "resolving modules (cold cache: ~2.8 GB, a few minutes)"
  (cd "$src" && go get "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi@v$version" "github.com/pulumi/pulumi/sdk/v3@v$version") \
    >"$src/get.log" 2>&1 || die "go get failed: $(tail -n1 "$src/get.log") (full log: $src/get.log)"
  say "building pulumi v$version (cold: ~5 min on 2 cores)"
  rm -f "$bindir/pulumi"
  (cd "$src" && go build -trimpath \
    -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$version" \
    -o "$bindir/pulumi.tmp" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi) >"$src/build.log" 2>&1 ||
    die "go build failed: $(tail -n1 "$src/build.log") (full log: $src/build.log)"
  mv "$bindir/pulumi.tmp" "$bindir/pulumi"
  built=$(version_of "$bindir/pulumi")
  [[ $built == "$version" ]] || die "built pulumi reports v$built, expected v$version"
  say "built pulumi v$version in $(($(date +%s) - start))s ($(du -h "$bindir/pulumi" | cut -f1))"
fi

# Launchers. The project root is taken from PROXMOX_TALOS_ROOT (stacks/ sets it), else the
# engine's cwd when it is a checkout with node_modules, else the checkout that wrote the launcher.
write_launcher() {
  local file=$1 body=$2
  local tmp="$file.tmp.$$"
  cat >"$tmp" <<EOF
#!/usr/bin/env bash
# Written by scripts/pulumi-engine.sh; rewritten on every run.
set -e
root=\${PROXMOX_TALOS_ROOT:-}
if [[ -z \$root ]]; then
  if [[ -d \$PWD/node_modules/@pulumi/pulumi ]]; then root=\$PWD; else root='$root'; fi
fi
$body
EOF
  chmod +x "$tmp"
  mv "$tmp" "$file"
}
write_launcher "$bindir/pulumi-resource-pulumi-nodejs" \
  'tsx_hook=$root/node_modules/tsx/dist/cjs/index.cjs
if [[ -f $tsx_hook ]]; then
  exec node --require "$tsx_hook" "$root/node_modules/@pulumi/pulumi/cmd/dynamic-provider" "$@"
fi
exec node "$root/node_modules/@pulumi/pulumi/cmd/dynamic-provider" "$@"'
# cwd is the pack dir: its own node_modules/@pulumi/pulumi when it has one, else the project's.
# No tsx here: run-policy-pack registers ts-node itself (the project's, else its vendored 7.0.1,
# with the project's TypeScript), so a TypeScript pack's index.ts loads as is.
write_launcher "$bindir/pulumi-analyzer-policy-nodejs" \
  'runner=./node_modules/@pulumi/pulumi/cmd/run-policy-pack
[[ -e $runner ]] || runner=$root/node_modules/@pulumi/pulumi/cmd/run-policy-pack
exec node "$runner" "$@"'

say "ready in $(($(date +%s) - start))s"
echo "$bindir"
