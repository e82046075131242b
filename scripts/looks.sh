#!/usr/bin/env bash
# looks.sh: the charging detector's tuning figures, as docs/detection.md (Tuning) quotes them.
# It builds cw-sim and runs `cw-sim eval` on the four tuning "looks" (the tuning cities 101-104 in
# four seasonal orders, 10 days each) and, with --fresh, on two sets of four fresh cities, then
# prints per interval the sum and each run's "detected/false alarms(median minutes to detect)".
#
#   scripts/looks.sh [--intervals 1m,5m] [--fresh FIRST] [--no-looks] [--set NAME=VALUE ...]
#
#   scripts/looks.sh                                   # the looks at 1 min and 5 min
#   scripts/looks.sh --set RoomDupLong=0.12            # the same with a parameter changed
#   scripts/looks.sh --no-looks --fresh 217            # cities 217-220 and 221-224 only
#   scripts/looks.sh --intervals 10s                   # 10-s readings (slower)
#
# The held-out seeds (90000-90999) are refused: the reported figures come from them, and they are
# never used to choose anything. A run of the four looks at one interval takes about a minute on
# two cores. Progress (one line per run) goes to stderr.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

intervals="1m,5m"
fresh=""
looks=1
sets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --intervals) [ $# -ge 2 ] || die "--intervals needs a value, e.g. --intervals 1m,5m"; intervals="$2"; shift 2 ;;
    --fresh) [ $# -ge 2 ] || die "--fresh needs the first of eight unused city seeds, e.g. --fresh 217"; fresh="$2"; shift 2 ;;
    --no-looks) looks=0; shift ;;
    --set) [ $# -ge 2 ] || die "--set needs NAME=VALUE (a detect.PhysicsParams field)"; sets+=(--set "$2"); shift 2 ;;
    -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument $1: use --intervals, --fresh, --no-looks or --set (see --help)" ;;
  esac
done

runs=()
[ "$looks" -eq 1 ] && runs+=(tuning 102,103,104,101 103,104,101,102 104,101,102,103)
if [ -n "$fresh" ]; then
  [[ "$fresh" =~ ^[0-9]+$ ]] || die "--fresh $fresh: give a number, the first of eight city seeds"
  last=$((fresh + 7))
  if [ "$last" -ge 90000 ] && [ "$fresh" -le 90999 ]; then
    die "--fresh $fresh: seeds $fresh-$last overlap the held-out seeds 90000-90999; pick others"
  fi
  if [ "$fresh" -le 104 ] && [ "$last" -ge 101 ]; then
    die "--fresh $fresh: seeds $fresh-$last overlap the tuning cities 101-104; pick others"
  fi
  runs+=("$fresh,$((fresh + 1)),$((fresh + 2)),$((fresh + 3))" "$((fresh + 4)),$((fresh + 5)),$((fresh + 6)),$((fresh + 7))")
fi
[ "${#runs[@]}" -gt 0 ] || die "nothing to run: --no-looks needs --fresh FIRST"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
step "building cw-sim"
(cd "$REPO" && go build -o "$tmp/cw-sim" ./cmd/cw-sim)

IFS=',' read -r -a ivs <<<"$intervals"
for iv in "${ivs[@]}"; do
  for group in looks fresh; do
    det=0 fa=0 line=""
    for r in "${runs[@]}"; do
      case "$r" in
        tuning|102,103,104,101|103,104,101,102|104,101,102,103) [ "$group" = looks ] || continue ;;
        *) [ "$group" = fresh ] || continue ;;
      esac
      printf '... %s seeds %s\n' "$iv" "$r" >&2
      out="$("$tmp/cw-sim" eval --seeds "$r" --days 10 --realdata none --no-plots --workers 2 --quiet \
        --intervals "$iv" "${sets[@]}")" || die "cw-sim eval --seeds $r --intervals $iv failed"
      # the "all" row: $3 detected, $16 false alarms on charger-free days, $22 median TTD
      d="" f="" t=""
      read -r d f t < <(awk '$1 == "all" { print $3, $16, $22; exit }' <<<"$out") || true
      [ -n "$d" ] || die "no \"all\" row in the output of seeds $r at $iv"
      det=$((det + d)) fa=$((fa + f)) line="$line $d/$f($t)"
    done
    [ -n "$line" ] && printf '%s %s %d/%d :%s\n' "$iv" "$group" "$det" "$fa" "$line"
  done
done
