#!/usr/bin/env bash
# Benchmark: synth of all environments (`make synth`, through the operator and its lock) against `npx cdktf synth`
# on the same app, and the unit-test suite, with wall time and peak resident memory of the largest
# process. Writes bench/results.md. Usage: bench/run.sh [runs] (default 5).
set -euo pipefail
cd "$(dirname "$0")/.."
export CHECKPOINT_DISABLE=1
runs=${1:-5}
tmp=bench/.tmp
rm -rf "$tmp" && mkdir -p "$tmp"
[ -d node_modules ] || npm ci --no-audit --no-fund >/dev/null

# measure NAME COMMAND...: runs COMMAND $runs times; prints "median_wall_s max_peak_mb".
measure() {
  local name=$1; shift
  local walls=() peak=0
  for _ in $(seq "$runs"); do
    /usr/bin/time -f "%e %M" -o "$tmp/$name.time" "$@" >"$tmp/$name.log" 2>&1 || { cat "$tmp/$name.log"; exit 1; }
    read -r wall kb <"$tmp/$name.time"
    walls+=("$wall")
    (( kb > peak )) && peak=$kb
  done
  local median
  median=$(printf '%s\n' "${walls[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  echo "$median $((peak / 1024))"
}

# host_speed: seconds of a fixed CPU-bound node loop (ten node starts, 3e7 additions each), taken at the
# start and the end of the bench. The machines are shared and their speed moves by a fifth or more
# within minutes: this tells a slow host from a slower project when reading two results side by side.
host_speed() {
  local start end
  start=$(date +%s%N)
  for _ in $(seq 10); do node -e 'let s = 0; for (let i = 0; i < 3e7; i++) s += i;'; done
  end=$(date +%s%N)
  awk -v ns=$((end - start)) 'BEGIN {printf "%.2f", ns / 1e9}'
}
speed_before=$(host_speed)

# Fresh: every cache of scripts/register.js and of the settings parse empty, as on a fresh checkout
# (the TypeScript is transpiled and V8 compiles every module from source). Shown, no target.
rm -rf node_modules/.cache/accessweaver-ts node_modules/.cache/accessweaver-v8 node_modules/.cache/accessweaver-resolve node_modules/.cache/accessweaver-settings
read -r fresh_s fresh_mb < <(runs=1 measure make-synth-fresh make synth OUTDIR="$tmp/direct.out")
# Cold: the settings files not yet parsed (their parse is cached in node_modules/.cache by content),
# the code caches filled by the run above: what a settings change costs.
rm -rf node_modules/.cache/accessweaver-settings
read -r cold_s cold_mb < <(runs=1 measure make-synth-cold make synth OUTDIR="$tmp/direct.out")
read -r make_s make_mb < <(measure make-synth make synth OUTDIR="$tmp/direct.out")
read -r cli_s cli_mb < <(measure cdktf-synth npx cdktf synth --output "$tmp/cli.out")
synth_runs=$runs; runs=1
# The first run after the cold synth above re-parses every settings file the tests write (the parse
# cache was emptied) and fills the other caches: it is shown apart; the target is on the next, warm run.
read -r test_cold_s test_cold_mb < <(measure unit-first make unit)
# The warm suite: the median of three runs, since a shared host's speed moves by a fifth within minutes.
read -r test_s test_mb < <(runs=3 measure unit make unit)
speed_after=$(host_speed)
ratio=$(awk -v a="$cli_s" -v b="$make_s" 'BEGIN {printf "%.1f", a / b}')
cold_ratio=$(awk -v a="$cli_s" -v b="$cold_s" 'BEGIN {printf "%.1f", a / b}')

{
  echo "# Benchmark figures"
  echo
  echo "Measured $(date -u +%Y-%m-%d) on $(nproc) cores, Node $(node --version); median of $synth_runs runs for synth, of 3 for the warm make unit."
  echo "Host speed reference (a fixed node CPU loop, lower is faster; see bench/run.sh): ${speed_before} s before, ${speed_after} s after."
  echo
  echo "| what | wall | peak memory (largest process) | target |"
  echo "|---|---|---|---|"
  echo "| \`make synth\` (all environments, through the operator) | ${make_s} s | ${make_mb} MB | < 1 s, < 1 GB |"
  echo "| \`make synth\`, first run after a settings change (cold parse cache) | ${cold_s} s | ${cold_mb} MB | < 1.5 s |"
  echo "| \`make synth\`, first run on a fresh checkout (every cache empty) | ${fresh_s} s | ${fresh_mb} MB | |"
  echo "| \`npx cdktf synth\` (same app) | ${cli_s} s | ${cli_mb} MB | |"
  echo "| speed-up of \`make synth\` (cold) | ${ratio}x (${cold_ratio}x) | | >= 4x |"
  echo "| \`make unit\` (jest, every test that starts neither Terraform nor the cdktf CLI), warm | ${test_s} s | ${test_mb} MB | < 45 s, < 1 GB |"
  echo "| \`make unit\`, first run after the settings parse cache was emptied | ${test_cold_s} s | ${test_cold_mb} MB | |"
} | tee bench/results.md
