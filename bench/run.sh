#!/usr/bin/env bash
# Benchmark, side by side in one run: `make synth ENV=prod` against the plain app (`node -r
# sucrase/register main.ts`: the same synth without the project's caches) and against `npx cdktf synth`
# (the same app, started by the cdktf CLI); `make synth` of all environments; and `make unit`. Wall time
# (median) and peak resident memory of the largest process. The synth commands run interleaved (one of
# each per round), so a change of the shared host's speed hits them alike. Writes bench/results.md.
# Usage: bench/run.sh [rounds] (default 5; make unit runs 3 times).
set -euo pipefail
cd "$(dirname "$0")/.."
export CHECKPOINT_DISABLE=1
rounds=${1:-5}
tmp=bench/.tmp
rm -rf "$tmp" && mkdir -p "$tmp"
trap 'rm -rf "$tmp"' EXIT
[ -d node_modules ] || npm ci --no-audit --no-fund >/dev/null

# once NAME COMMAND...: runs COMMAND once, appends "wall_s peak_kb" to $tmp/NAME.
once() {
  local name=$1; shift
  /usr/bin/time -f "%e %M" -o "$tmp/$name.time" "$@" >"$tmp/$name.log" 2>&1 || { cat "$tmp/$name.log"; exit 1; }
  cat "$tmp/$name.time" >>"$tmp/$name"
}
# summary NAME: "median_wall_s max_peak_mb" of the runs recorded for NAME.
summary() {
  sort -n "$tmp/$1" | awk '{w[NR]=$1; if ($2>m) m=$2} END {printf "%s %d\n", w[int((NR+1)/2)], m/1024}'
}
# runs NAME: the wall times of every run, in order.
runs() { awk '{printf "%s%s s", (NR>1 ? ", " : ""), $1}' "$tmp/$1"; }

# host_speed: seconds of a fixed CPU-bound node loop (ten node starts, 3e7 additions each), taken at the
# start and the end: it tells a slow host from a slower project when reading two results side by side.
host_speed() {
  local start end
  start=$(date +%s%N)
  for _ in $(seq 10); do node -e 'let s = 0; for (let i = 0; i < 3e7; i++) s += i;'; done
  end=$(date +%s%N)
  awk -v ns=$((end - start)) 'BEGIN {printf "%.2f", ns / 1e9}'
}
load() { cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || uptime | sed 's/.*load average: //'; }
load_before=$(load)
speed_before=$(host_speed)

# A fresh checkout: the synth's caches (transpiled code, parsed settings) empty. Shown, no target.
rm -rf node_modules/.cache/accessweaver-ts node_modules/.cache/accessweaver-settings
once fresh make synth ENV=prod OUTDIR="$tmp/make.out"

for _ in $(seq "$rounds"); do
  once make make synth ENV=prod OUTDIR="$tmp/make.out"
  once plain env ACCESSWEAVER_ENV=prod CDKTF_OUTDIR="$tmp/plain.out" node -r sucrase/register main.ts
  once cli env ACCESSWEAVER_ENV=prod npx cdktf synth --output "$tmp/cli.out"
  once all make synth OUTDIR="$tmp/all.out"
done
# The three write the same stacks, byte for byte.
for dir in plain cli; do diff -r "$tmp/make.out/stacks" "$tmp/$dir.out/stacks" >/dev/null || { echo "bench: $dir's stacks differ from make synth's" >&2; exit 1; }; done

for _ in 1 2 3; do once unit make unit; done
speed_after=$(host_speed)
load_after=$(load)

read -r make_s make_mb < <(summary make)
read -r plain_s plain_mb < <(summary plain)
read -r cli_s cli_mb < <(summary cli)
read -r all_s all_mb < <(summary all)
read -r fresh_s fresh_mb < <(summary fresh)
read -r unit_s unit_mb < <(summary unit)
verdict() { awk -v a="$1" -v b="$2" -v ok="$3" -v no="$4" 'BEGIN {print (a <= b ? ok : no)}'; }

{
  echo "# Benchmark figures"
  echo
  echo "Measured $(date -u +%Y-%m-%d) with bench/run.sh on $(nproc) cores, Node $(node --version): the synth commands interleaved, $rounds rounds, median; \`make unit\` 3 runs, median."
  echo "The host is shared. Load average (1, 5, 15 min): ${load_before} at the start, ${load_after} at the end. Host speed reference (a fixed node CPU loop, lower is faster): ${speed_before} s before, ${speed_after} s after."
  echo
  echo "| what | wall (median) | peak memory (largest process) | target |"
  echo "|---|---|---|---|"
  echo "| \`make synth ENV=prod\` (through the operator and its lock; transpile and settings caches) | ${make_s} s | ${make_mb} MB | no slower than the plain app: $(verdict "$make_s" "$plain_s" met "NOT met") |"
  echo "| plain app: \`node -r sucrase/register main.ts\`, ACCESSWEAVER_ENV=prod | ${plain_s} s | ${plain_mb} MB | |"
  echo "| \`npx cdktf synth\`, ACCESSWEAVER_ENV=prod | ${cli_s} s | ${cli_mb} MB | |"
  echo "| \`make synth ENV=prod\`, caches empty (one run) | ${fresh_s} s | ${fresh_mb} MB | |"
  echo "| \`make synth\` (all environments) | ${all_s} s | ${all_mb} MB | |"
  echo "| \`make unit\` ($(runs unit)) | ${unit_s} s | ${unit_mb} MB | < 60 s: $(verdict "$unit_s" 60 met "NOT met") |"
  echo
  echo "Every run: \`make synth ENV=prod\` $(runs make); plain app $(runs plain); \`npx cdktf synth\` $(runs cli); \`make synth\` (all) $(runs all)."
  echo "The three synths of prod wrote the same stacks, byte for byte."
} | tee bench/results.md
