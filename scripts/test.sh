#!/usr/bin/env bash
# test.sh: everything `make test` checks, in order, with a timing line per step:
#   deps (install-deps.sh), gofmt, go vet, staticcheck, go test (all packages, against real
#   Mosquitto and InfluxDB started by internal/testenv), cross-build of cw-edge for
#   linux/amd64, linux/arm (GOARM=7) and linux/arm64 with CGO_ENABLED=0.
# Steps after deps all run even if one fails; the script fails if any did.
# Environment (for trying a subset): PKGS, the packages for vet, staticcheck and go test
# (default ./...); EDGE_PKG, the package cross-built (default ./cmd/cw-edge); GO_TEST_FLAGS,
# extra go test flags (e.g. "-run TestX" or "-race").
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO"

EDGE_PKG="${EDGE_PKG:-./cmd/cw-edge}"
read -r -a PKGS <<<"${PKGS:-./...}"
failed=()
t_all="$(now_s)"

# run_step NAME CMD...: runs CMD, prints its duration, records a failure.
run_step() {
  local name="$1" t0 rc=0
  shift
  step "$name"
  t0="$(now_s)"
  "$@" || rc=$?
  if [ "$rc" -eq 0 ]; then
    printf -- '--- %s: ok (%s)\n' "$name" "$(elapsed "$t0")"
  else
    printf -- '--- %s: FAILED (exit %d, %s)\n' "$name" "$rc" "$(elapsed "$t0")"
    failed+=("$name")
  fi
}

gofmt_check() {
  local files bad
  files="$(find . \( -name .git -o -name .bin -o -name .run -o -name dist -o -name testdata -o -name node_modules \) -prune -o -name '*.go' -print)"
  [ -z "$files" ] && return 0
  # shellcheck disable=SC2086
  bad="$(gofmt -l $files)"
  if [ -n "$bad" ]; then
    printf 'not gofmt-ed (run gofmt -w on them):\n%s\n' "$bad"
    return 1
  fi
}

cross_build() {
  local out target goos goarch goarm name rc=0
  out="$(mktemp -d)"
  for target in linux/amd64 linux/arm/7 linux/arm64; do
    IFS=/ read -r goos goarch goarm <<<"$target"
    name="cw-edge-$goos-$goarch${goarm:+v$goarm}"
    if CGO_ENABLED=0 GOOS="$goos" GOARCH="$goarch" GOARM="$goarm" \
      go build -trimpath -ldflags='-s -w' -o "$out/$name" "$EDGE_PKG"; then
      printf '    %-24s %s bytes\n' "$name" "$(stat -c %s "$out/$name")"
    else
      rc=1
    fi
  done
  rm -rf "$out"
  return "$rc"
}

# Dependencies first: nothing else can run without them.
step "deps"
t0="$(now_s)"
"$REPO/scripts/install-deps.sh"
printf -- '--- deps: ok (%s)\n' "$(elapsed "$t0")"

run_step "gofmt" gofmt_check
run_step "go vet" go vet "${PKGS[@]}"
run_step "staticcheck" "$BIN/staticcheck" "${PKGS[@]}"
# shellcheck disable=SC2086
run_step "go test" go test -count=1 -timeout 9m ${GO_TEST_FLAGS:-} "${PKGS[@]}"
run_step "cross-build $EDGE_PKG" cross_build

if [ "${#failed[@]}" -gt 0 ]; then
  printf '==> FAILED: %s (total %s)\n' "$(IFS=,; echo "${failed[*]}")" "$(elapsed "$t_all")"
  exit 1
fi
printf '==> all checks passed (total %s)\n' "$(elapsed "$t_all")"
