#!/usr/bin/env bash
# install-deps.sh: installs what chargewatch's tests, demo and checks need, and nothing else.
#
#   - Debian packages (apt): mosquitto mosquitto-clients prometheus prometheus-alertmanager
#     socat mbpoll python3-pymodbus. Their system services are NOT left running: the project
#     starts its own instances on its own ports.
#   - Built with Go into .bin/ (git-ignored): influxd (InfluxDB OSS 1.8.10) and staticcheck.
#
# Idempotent: prints nothing and exits 0 when everything is already there. Safe to run from
# several processes at once (serialised by a lock file in .bin/).
# Needs Go on PATH. Uses sudo for apt when not root.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

INFLUXDB_MODULE=github.com/influxdata/influxdb
INFLUXDB_VERSION=v1.8.10
STATICCHECK_MODULE=honnef.co/go/tools
STATICCHECK_VERSION=v0.8.2
APT_PACKAGES=(mosquitto mosquitto-clients prometheus prometheus-alertmanager socat mbpoll python3-pymodbus)

# --- helpers -----------------------------------------------------------------------------------

# deb_installed PKG: true if dpkg says PKG is installed.
deb_installed() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

# pkg_present PKG: without dpkg, a best-effort check that what PKG provides is there.
pkg_present() {
  case "$1" in
    mosquitto) find_bin mosquitto >/dev/null ;;
    mosquitto-clients) find_bin mosquitto_pub >/dev/null && find_bin mosquitto_sub >/dev/null ;;
    prometheus) find_bin prometheus >/dev/null && find_bin promtool >/dev/null ;;
    prometheus-alertmanager) find_bin prometheus-alertmanager alertmanager >/dev/null ;;
    socat) find_bin socat >/dev/null ;;
    mbpoll) find_bin mbpoll >/dev/null ;;
    python3-pymodbus) # the system interpreter; the first python3 on PATH may be another one
      /usr/bin/python3 -c 'import pymodbus' >/dev/null 2>&1 || python3 -c 'import pymodbus' >/dev/null 2>&1 ;;
    *) return 1 ;;
  esac
}

# go_tool_current NAME MODULE VERSION: true if .bin/NAME was built from MODULE@VERSION.
go_tool_current() {
  [ -x "$BIN/$1" ] || return 1
  go version -m "$BIN/$1" 2>/dev/null |
    awk -v m="$2" -v v="$3" '$1 == "mod" && $2 == m && $3 == v { found = 1 } END { exit !found }'
}

# go_tool NAME PKG MODULE VERSION [LDFLAGS]: go install PKG@VERSION into .bin/ unless current.
# Runs outside the project's module (from a temp dir, GOWORK=off) so go.mod is never touched.
go_tool() {
  local name="$1" pkg="$2" module="$3" version="$4" ldflags="${5:-}" tmp t0
  go_tool_current "$name" "$module" "$version" && return 0
  t0="$(now_s)"
  tmp="$(mktemp -d)"
  if ! (cd "$tmp" && GOWORK=off GOBIN="$BIN" go install -ldflags="$ldflags" "$pkg@$version"); then
    rm -rf "$tmp"
    die "go install $pkg@$version failed"
  fi
  rm -rf "$tmp"
  go_tool_current "$name" "$module" "$version" || die "$BIN/$name was built but is not $module $version"
  step "built $name $version in $(elapsed "$t0")"
}

# --- Debian packages ---------------------------------------------------------------------------

install_debs() {
  local missing=() pkg
  if command -v dpkg-query >/dev/null 2>&1; then
    for pkg in "${APT_PACKAGES[@]}"; do deb_installed "$pkg" || missing+=("$pkg"); done
  else
    for pkg in "${APT_PACKAGES[@]}"; do pkg_present "$pkg" || missing+=("$pkg"); done
  fi
  [ "${#missing[@]}" -eq 0 ] && return 0

  if ! command -v apt-get >/dev/null 2>&1; then
    printf 'ERROR: this is not a Debian/Ubuntu system (no apt-get), so install these with your\n' >&2
    printf '       package manager (names are the Debian ones), then run this script again:\n' >&2
    printf '         %s\n' "${missing[*]}" >&2
    case " ${missing[*]} " in
      *" python3-pymodbus "*) printf '       (python3-pymodbus = the pymodbus module for python3: pip install pymodbus)\n' >&2 ;;
    esac
    exit 1
  fi

  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || die "need root to install ${missing[*]}: run this script as root or install sudo"
    sudo=(sudo)
  fi

  # Keep the packages' services from starting: a temporary policy-rc.d that denies every
  # start is honoured by invoke-rc.d and deb-systemd-invoke (both used by the maintainer
  # scripts). An existing policy-rc.d (e.g. in containers) is left alone.
  local policy=/usr/sbin/policy-rc.d our_policy=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\n# temporary, from chargewatch scripts/install-deps.sh\nexit 101\n' |
      "${sudo[@]}" tee "$policy" >/dev/null
    "${sudo[@]}" chmod 755 "$policy"
    our_policy=1
    trap "${sudo[*]:-} rm -f $policy" EXIT
  fi

  local log
  log="$(mktemp)"
  step "apt-get update"
  if ! "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q >"$log" 2>&1; then
    tail -n 20 "$log" >&2
    die "apt-get update failed"
  fi
  for pkg in "${missing[@]}"; do step "installing $pkg (apt)"; done
  if ! "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >"$log" 2>&1; then
    tail -n 30 "$log" >&2
    die "apt-get install ${missing[*]} failed"
  fi
  rm -f "$log"
  if [ "$our_policy" -eq 1 ]; then
    "${sudo[@]}" rm -f "$policy"
    trap - EXIT
  fi

  # Only the services of packages installed just now (node-exporter comes with prometheus).
  local services=()
  for pkg in "${missing[@]}"; do
    case "$pkg" in
      mosquitto | prometheus-alertmanager) services+=("$pkg") ;;
      prometheus) services+=(prometheus prometheus-node-exporter) ;;
    esac
  done
  [ "${#services[@]}" -gt 0 ] && SERVICES="${services[*]}" stop_packaged_services "${sudo[@]}"
  return 0
}

# live_procs_of USER: true if USER (a system user) runs a process that is not a zombie.
live_procs_of() {
  ps -u "$1" -o stat= 2>/dev/null | grep -qv '^Z'
}

# SERVICES="svc..." stop_packaged_services [SUDO]: the Debian packages run their daemons as
# the system users mosquitto and prometheus (prometheus, alertmanager, node-exporter), on the
# default ports 1883, 9090, 9093, 9100. If one of SERVICES is running after the install, stop
# it; with systemd, also disable it so it does not come back at boot. (Our own instances run
# as the invoking user, on their own ports.)
stop_packaged_services() {
  local svc running=()
  for svc in $SERVICES; do
    case "$svc" in
      mosquitto) live_procs_of mosquitto && running+=("$svc") ;;
      *) live_procs_of prometheus && running+=("$svc") ;;
    esac
  done
  if [ -d /run/systemd/system ]; then
    # systemd enables the units on install even when policy-rc.d kept them from starting.
    for svc in $SERVICES; do
      if systemctl is-enabled --quiet "$svc" 2>/dev/null || systemctl is-active --quiet "$svc" 2>/dev/null; then
        step "disabling the system service $svc (the project runs its own instances; re-enable with: systemctl enable --now $svc)"
        "$@" systemctl disable --now --quiet "$svc" || warn "could not disable $svc"
      fi
    done
    return 0
  fi
  for svc in "${running[@]}"; do
    if [ -x "/etc/init.d/$svc" ]; then
      step "stopping the system service $svc (the project runs its own instances)"
      "$@" "/etc/init.d/$svc" stop >/dev/null 2>&1 || warn "could not stop $svc"
    fi
  done
  [ "${#running[@]}" -eq 0 ] && return 0
  if live_procs_of mosquitto || live_procs_of prometheus; then
    warn "a packaged mosquitto/prometheus daemon is still running (ports 1883/9090/9093/9100); the project does not need it"
  fi
}

# --- main --------------------------------------------------------------------------------------

command -v go >/dev/null 2>&1 || die "Go is not on PATH: install Go (see go.mod for the version) first"
mkdir -p "$BIN"

# Serialise concurrent runs (e.g. several test packages asking at once).
if command -v flock >/dev/null 2>&1; then
  exec 9>"$BIN/.install-deps.lock"
  flock 9
fi

install_debs

if ! go_tool_current influxd "$INFLUXDB_MODULE" "$INFLUXDB_VERSION"; then
  step "building influxd ${INFLUXDB_VERSION#v} from source into .bin/ (about 60 s)"
  go_tool influxd "$INFLUXDB_MODULE/cmd/influxd" "$INFLUXDB_MODULE" "$INFLUXDB_VERSION" \
    "-X main.version=${INFLUXDB_VERSION#v} -X main.branch=1.8 -X main.commit=$INFLUXDB_VERSION"
fi

if ! go_tool_current staticcheck "$STATICCHECK_MODULE" "$STATICCHECK_VERSION"; then
  step "installing staticcheck $STATICCHECK_VERSION into .bin/"
  go_tool staticcheck "$STATICCHECK_MODULE/cmd/staticcheck" "$STATICCHECK_MODULE" "$STATICCHECK_VERSION"
fi
