# shellcheck shell=bash
# Shared helpers for chargewatch scripts. Source it:  . "$(dirname "$0")/lib.sh"
# Defines REPO (repository root) and BIN (REPO/.bin, where project-built tools live).

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="$REPO/.bin"
export REPO BIN

# step MESSAGE: a progress line.
step() { printf '==> %s\n' "$*"; }
# warn MESSAGE / die MESSAGE: to stderr; die exits 1.
warn() { printf 'WARNING: %s\n' "$*" >&2; }
die() { printf 'ERROR: %s\n' "$*" >&2; exit 1; }

# now_s: seconds since the epoch with milliseconds, for timing lines.
now_s() { date +%s.%3N; }
# elapsed START: seconds since START (from now_s), formatted like 12.3s.
elapsed() { awk -v a="$1" -v b="$(now_s)" 'BEGIN { printf "%.1fs", b - a }'; }

# find_bin NAME...: prints the path of the first NAME found on PATH or in the sbin
# directories (which a non-root PATH often lacks); returns 1 if none is found.
find_bin() {
  local name dir
  for name in "$@"; do
    if command -v "$name" >/dev/null 2>&1; then command -v "$name"; return 0; fi
    for dir in /usr/sbin /sbin /usr/local/sbin; do
      if [ -x "$dir/$name" ]; then printf '%s\n' "$dir/$name"; return 0; fi
    done
  done
  return 1
}

# render_template SRC DST KEY=VALUE...: copies SRC to DST replacing every {{KEY}} by VALUE.
# Fails if a {{PLACEHOLDER}} is left over on a non-comment line. Values must not contain
# newlines. Used for deploy/mosquitto/mosquitto.conf and deploy/influxdb/influxdb.conf
# (internal/testenv does the same substitution in Go).
render_template() {
  local src="$1" dst="$2" kv key val content
  shift 2
  content="$(cat "$src")" || return 1
  for kv in "$@"; do
    key="${kv%%=*}"
    val="${kv#*=}"
    content="${content//"{{$key}}"/$val}"
  done
  if printf '%s\n' "$content" | grep -v '^[[:space:]]*#' | grep -q '{{[A-Z_]*}}'; then
    printf 'ERROR: %s: unsubstituted placeholder(s): %s\n' "$src" \
      "$(printf '%s\n' "$content" | grep -v '^[[:space:]]*#' | grep -o '{{[A-Z_]*}}' | sort -u | tr '\n' ' ')" >&2
    return 1
  fi
  printf '%s\n' "$content" >"$dst"
}
