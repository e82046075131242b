#!/usr/bin/env bash
# looks.sh: the charging detector's tuning figures, as docs/detection-history.md (Tuning) quotes them.
# It builds cw-sim and runs `cw-sim eval` on the four tuning "looks" (the tuning cities 101-104 in
# four seasonal orders, 10 days each) and, with --fresh, on sets of four fresh cities, then prints
# per interval the sum, the alert ends, and each run's "detected/false alarms(median minutes to
# detect)". "ends O/E": alerts that outlived their session by more than 30 minutes / alerts that
# ended more than 30 minutes before the charger stopped drawing.
#
#   scripts/looks.sh [--intervals 1m,5m] [--fresh FIRST [--sets N]] [--no-looks] [--wide | --confirm]
#                    [--set NAME=VALUE ...]
#
#   scripts/looks.sh                                   # the looks at 1 min and 5 min
#   scripts/looks.sh --set RoomDupLong=0.12            # the same with a parameter changed
#   scripts/looks.sh --no-looks --fresh 217            # cities 217-220 and 221-224 only
#   scripts/looks.sh --wide                            # round 20's tuning pool: the looks + 201-224
#   scripts/looks.sh --confirm                         # round 20's fresh confirmation: 225-256
#   scripts/looks.sh --intervals 10s                   # 10-s readings (slower)
#
# --sets N: how many sets of four cities from FIRST (default 2). --wide is --fresh 201 --sets 6
# with the looks; --confirm is --no-looks --fresh 225 --sets 8.
# The held-out seeds (90000-90999) are refused: the reported figures come from them, and they are
# never used to choose anything. A run of the four looks at one interval takes about half a minute
# on two cores, --wide about 100 seconds for 1 min and 5 min. Progress goes to stderr.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

intervals="1m,5m"
fresh=""
nsets=2
looks=1
sets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --intervals) [ $# -ge 2 ] || die "--intervals needs a value, e.g. --intervals 1m,5m"; intervals="$2"; shift 2 ;;
    --fresh) [ $# -ge 2 ] || die "--fresh needs the first of the unused city seeds, e.g. --fresh 217"; fresh="$2"; shift 2 ;;
    --sets) [ $# -ge 2 ] || die "--sets needs a number of four-city sets, e.g. --sets 6"; nsets="$2"; shift 2 ;;
    --no-looks) looks=0; shift ;;
    --wide) fresh=201 nsets=6; shift ;;
    --confirm) fresh=225 nsets=8 looks=0; shift ;;
    --set) [ $# -ge 2 ] || die "--set needs NAME=VALUE (a detect.PhysicsParams field)"; sets+=(--set "$2"); shift 2 ;;
    -h|--help) sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument $1: use --intervals, --fresh, --sets, --no-looks, --wide, --confirm or --set (see --help)" ;;
  esac
done

runs=()
[ "$looks" -eq 1 ] && runs+=(tuning 102,103,104,101 103,104,101,102 104,101,102,103)
if [ -n "$fresh" ]; then
  [[ "$fresh" =~ ^[0-9]+$ ]] || die "--fresh $fresh: give a number, the first city seed of the sets"
  [[ "$nsets" =~ ^[1-9][0-9]*$ ]] || die "--sets $nsets: give a whole number of four-city sets, 1 or more"
  last=$((fresh + 4 * nsets - 1))
  if [ "$last" -ge 90000 ] && [ "$fresh" -le 90999 ]; then
    die "--fresh $fresh: seeds $fresh-$last overlap the held-out seeds 90000-90999; pick others"
  fi
  if [ "$fresh" -le 104 ] && [ "$last" -ge 101 ]; then
    die "--fresh $fresh: seeds $fresh-$last overlap the tuning cities 101-104; pick others"
  fi
  for ((c = fresh; c <= last; c += 4)); do
    runs+=("$c,$((c + 1)),$((c + 2)),$((c + 3))")
  done
fi
[ "${#runs[@]}" -gt 0 ] || die "nothing to run: --no-looks needs --fresh FIRST"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
step "building cw-sim"
(cd "$REPO" && go build -o "$tmp/cw-sim" ./cmd/cw-sim)

IFS=',' read -r -a ivs <<<"$intervals"
for iv in "${ivs[@]}"; do
  groups=0 tdet=0 tfa=0 toutl=0 tearly=0
  for group in looks fresh; do
    det=0 fa=0 outl=0 early=0 line=""
    for r in "${runs[@]}"; do
      case "$r" in
        tuning|102,103,104,101|103,104,101,102|104,101,102,103) [ "$group" = looks ] || continue ;;
        *) [ "$group" = fresh ] || continue ;;
      esac
      printf '... %s seeds %s\n' "$iv" "$r" >&2
      out="$("$tmp/cw-sim" eval --seeds "$r" --days 10 --realdata none --no-plots --workers 2 --quiet \
        --intervals "$iv" "${sets[@]}")" || die "cw-sim eval --seeds $r --intervals $iv failed"
      # the "all" row: $3 detected, $16 false alarms on charger-free days, $22 median TTD
      d="" f="" t="" o="" e=""
      read -r d f t < <(awk '$1 == "all" { print $3, $16, $22; exit }' <<<"$out") || true
      [ -n "$d" ] || die "no \"all\" row in the output of seeds $r at $iv"
      # the alert ends: "outlived the session by > 30 min N (...)" and "N of them > 30 min before
      # the charger stopped charging"
      o="$(awk '$1 == "outlived" { print $8; exit }' <<<"$out")"
      e="$(grep -o '[0-9]* of them > 30 min before the charger' <<<"$out" | head -n 1 | cut -d' ' -f1)" || true
      [ -n "$o" ] && [ -n "$e" ] || die "no alert-end line in the output of seeds $r at $iv"
      det=$((det + d)) fa=$((fa + f)) outl=$((outl + o)) early=$((early + e)) line="$line $d/$f($t)"
    done
    [ -n "$line" ] || continue
    printf '%s %s %d/%d ends %d/%d :%s\n' "$iv" "$group" "$det" "$fa" "$outl" "$early" "$line"
    groups=$((groups + 1)) tdet=$((tdet + det)) tfa=$((tfa + fa)) toutl=$((toutl + outl)) tearly=$((tearly + early))
  done
  if [ "$groups" -gt 1 ]; then
    printf '%s all %d/%d ends %d/%d\n' "$iv" "$tdet" "$tfa" "$toutl" "$tearly"
  fi
done
