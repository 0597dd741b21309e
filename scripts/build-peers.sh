#!/usr/bin/env bash
# Builds the real upstream programs the peer tests drive, from Go modules, into a cache outside the
# repo ($TEST_PEERS_DIR, default ~/.cache/test-peers), one binary per version:
#   talosctl-v1.11.5        Sidero's CLI; tests/talos-conformance drives the fake Talos node with it
#   etcd                    the storage of the API server below: a link to the one etcd the project
#                           builds (scripts/build-etcd.sh, the version pinned as TEST_ETCD_VERSION)
#   kube-apiserver-v1.34.4  the Kubernetes API server the day-2 gates run against (envtest style)
# A stable name (talosctl, etcd, kube-apiserver) links to the pinned version; tests look only there.
# Cached binaries are reused. Without Go it says so and exits 0, and those tests skip with a message.
# Each build prints its time; a failed build is reported and the others still run.
#   TEST_PEERS_ONLY="talosctl etcd"   build only these
set -uo pipefail
TALOSCTL_VERSION=v1.11.5
KUBERNETES_VERSION=v1.34.4

out=${TEST_PEERS_DIR:-$HOME/.cache/test-peers}
only=${TEST_PEERS_ONLY:-talosctl etcd kube-apiserver}
say() { echo "test-peers: $*"; }
source "$(dirname "$0")/skip-without-go.sh"
skip_without_go test-peers "talosctl conformance and real API server tests"
mkdir -p "$out" && out=$(cd "$out" && pwd)

# Copies a module's own replace directives (Go ignores them in a dependency) into the scratch go.mod.
# $2 filters them: "published" keeps those to a published version, "staging=<v>" maps ./staging ones to <v>.
copy_replaces() {
  local gomod
  gomod=$(go mod download -json "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["GoMod"])') || return 1
  go mod edit -json "$gomod" | MODE="$2" python3 -c '
import json, os, sys
mode = os.environ["MODE"]
for r in json.load(sys.stdin).get("Replace") or []:
    old, new = r["Old"]["Path"], r["New"]
    if mode == "published" and new.get("Version"):
        print("-replace=%s=%s@%s" % (old, new["Path"], new["Version"]))
    elif mode.startswith("staging=") and new["Path"].startswith("./staging"):
        print("-replace=%s=%s@%s" % (old, old, mode.split("=", 1)[1]))' | xargs -r go mod edit
}

build_talosctl() {
  local mod=github.com/siderolabs/talos
  cat >tools.go <<GO
//go:build tools
package tools
import _ "$mod/cmd/talosctl"
GO
  # Some forks the root module requires have no checksum-database entry: GOSUMDB=off for this build only.
  export GOSUMDB=off
  copy_replaces "$mod@$TALOSCTL_VERSION" published &&
    go get "$mod@$TALOSCTL_VERSION" && go mod tidy &&
    go build -trimpath -ldflags "-s -w -X $mod/pkg/machinery/version.Tag=$TALOSCTL_VERSION" \
      -o "$1" "$mod/cmd/talosctl"
}

build_kube_apiserver() {
  local mod=k8s.io/kubernetes staging="v0.${KUBERNETES_VERSION#v1.}"
  local vpkg=k8s.io/component-base/version
  cat >tools.go <<'GO'
//go:build tools
package tools
import _ "k8s.io/kubernetes/cmd/kube-apiserver"
GO
  copy_replaces "$mod@$KUBERNETES_VERSION" "staging=$staging" &&
    go get "$mod@$KUBERNETES_VERSION" && go mod tidy &&
    go build -trimpath -ldflags "-s -w -X $vpkg.gitVersion=$KUBERNETES_VERSION -X $vpkg.gitMajor=1 \
      -X $vpkg.gitMinor=$(cut -d. -f2 <<<"$KUBERNETES_VERSION") -X $vpkg.gitTreeState=clean" \
      -o "$1" "$mod/cmd/kube-apiserver"
}

build() { # name version builder
  local name=$1 version=$2 fn=$3 bin="$out/$1-$2" start work
  if [[ -x $bin ]]; then
    say "$name $version cached in $out"
  else
    start=$(date +%s)
    work=$(mktemp -d)
    if (cd "$work" && export GOFLAGS=-mod=mod && go mod init peers >/dev/null 2>&1 && "$fn" "$bin.tmp") >"$work.log" 2>&1; then
      mv "$bin.tmp" "$bin"
      say "$name $version built in $(( $(date +%s) - start ))s"
      rm -rf "$work" "$work.log"
    else
      say "$name $version build failed (log: $work.log); its tests will skip"
      rm -f "$bin.tmp"
      return 0
    fi
  fi
  ln -sfn "$(basename "$bin")" "$out/$name"
}

for peer in $only; do
  case $peer in
    talosctl) build talosctl "$TALOSCTL_VERSION" build_talosctl ;;
    etcd)
      # One etcd build for every test: build-etcd.sh (cached) pins and builds it; link it here.
      here=$(cd "$(dirname "$0")" && pwd)
      bash "$here/build-etcd.sh" >/dev/null || true
      v=$(sed -n 's/^export const TEST_ETCD_VERSION = "\([0-9.]*\)";$/\1/p' "$here/../components/versions.ts")
      dir=${ETCD_PEER_DIR:-$HOME/.cache/proxmox-talos/etcd-$v}
      if [[ -x $dir/etcd ]]; then ln -sfn "$dir/etcd" "$out/etcd"; say "etcd v$v from $dir"; else say "etcd not built; the API server tests will skip"; fi ;;
    kube-apiserver) build kube-apiserver "$KUBERNETES_VERSION" build_kube_apiserver ;;
    *) say "unknown peer '$peer' in TEST_PEERS_ONLY (talosctl, etcd, kube-apiserver)"; exit 1 ;;
  esac
done
