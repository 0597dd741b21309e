# Sourced by the scripts that build test tools from Go modules: without Go, say which tests will
# skip and exit 0, so a machine without Go still runs everything else.
#   skip_without_go <label> <the tests that skip>
skip_without_go() {
  command -v go >/dev/null 2>&1 && return 0
  echo "$1: Go not installed; $2 will skip"
  exit 0
}
