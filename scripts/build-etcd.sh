#!/usr/bin/env bash
# Builds a real etcd server and etcdutl from Go modules (go.etcd.io/etcd/server/v3 and
# go.etcd.io/etcd/etcdutl/v3, the version pinned as TEST_ETCD_VERSION in components/versions.ts)
# into the cache the disaster-recovery tests read ($ETCD_PEER_DIR, default
# ~/.cache/proxmox-talos/etcd-<version>). Cached binaries are reused; without Go it says so and
# exits 0, and the real-etcd tests skip with a message.
#
# The etcd and etcdutl commands' own modules carry local replace directives, so `go install` of
# them fails; a few-line main over the server package (etcdmain.Main) and a cobra root over
# etcdutl's snapshot command build them instead (../shared/reference/peers/README.md).
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
version=$(sed -n 's/^export const TEST_ETCD_VERSION = "\([0-9.]*\)";$/\1/p' "$root/components/versions.ts")
if [[ -z $version ]]; then
  echo "etcd: TEST_ETCD_VERSION not found in components/versions.ts" >&2
  exit 1
fi
out=${ETCD_PEER_DIR:-$HOME/.cache/proxmox-talos/etcd-$version}
if [[ -x $out/etcd && -x $out/etcdutl ]]; then
  echo "etcd: cached v$version in $out"
  exit 0
fi
source "$root/scripts/skip-without-go.sh"
skip_without_go etcd "real-etcd tests"
start=$(date +%s)
src="$out/src"
mkdir -p "$src/etcd" "$src/etcdutl"
export GOTOOLCHAIN=local GOFLAGS=-mod=mod
cat >"$src/go.mod" <<GOMOD
module proxmox-talos/etcd-peer

go 1.24
GOMOD
cat >"$src/etcd/main.go" <<'GO'
// The etcd server command: etcdmain.Main is what go.etcd.io/etcd/v3's main calls.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
GO
cat >"$src/etcdutl/main.go" <<'GO'
// etcdutl with the snapshot command only (status, restore), as upstream's root registers it.
package main

import (
	"os"

	"github.com/spf13/cobra"
	"go.etcd.io/etcd/etcdutl/v3/etcdutl"
)

func main() {
	root := &cobra.Command{Use: "etcdutl", Short: "etcdutl snapshot status|restore"}
	root.PersistentFlags().StringVarP(&etcdutl.OutputFormat, "write-out", "w", "simple", "set the output format (fields, json, protobuf, simple, table)")
	root.AddCommand(etcdutl.NewSnapshotCommand())
	if err := root.Execute(); err != nil {
		os.Exit(1)
	}
}
GO
fail() { echo "etcd: $1 failed; real-etcd tests will skip (log: $src/$2)"; exit 0; }
(cd "$src" && go get "go.etcd.io/etcd/server/v3@v$version" "go.etcd.io/etcd/etcdutl/v3@v$version" github.com/spf13/cobra &&
  go mod tidy) >"$src/get.log" 2>&1 || fail "go get" get.log
(cd "$src" && go build -trimpath -ldflags "-s -w" -o "$out/etcd.tmp" ./etcd &&
  go build -trimpath -ldflags "-s -w" -o "$out/etcdutl.tmp" ./etcdutl) >"$src/build.log" 2>&1 || fail "go build" build.log
mv "$out/etcd.tmp" "$out/etcd" && mv "$out/etcdutl.tmp" "$out/etcdutl"
echo "etcd: built v$version in $out ($(( $(date +%s) - start ))s)"
