#!/usr/bin/env bash
# Benchmark of the Terraform checks (scripts/tf-check.ts): validate and the offline plan rehearsal of
# all environments, with wall time, CPU time and the peak resident memory of the largest process
# (Terraform, its provider or node). Synthesizes into a temp folder so cdktf.out is left alone.
# Prints a Markdown table. Usage: bench/tf-check.sh [runs] (default 3; the median wall time is shown).
set -euo pipefail
cd "$(dirname "$0")/.."
export CHECKPOINT_DISABLE=1
runs=${1:-3}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/tf-check-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
export CDKTF_OUTDIR="$tmp/out"
TF=${TF:-terraform}
command -v "$TF" >/dev/null || { echo "bench/tf-check.sh: SKIPPED: Terraform binary \"$TF\" not found" >&2; exit 3; }

CHECK=(node -r ./scripts/register.js scripts/tf-check.ts)
ACCESSWEAVER_ENV="" node -r ./scripts/register.js main.ts >/dev/null 2>&1

# measure NAME RUNS COMMAND...: prints "| NAME | median wall | median CPU | max peak |".
measure() {
  local name=$1 n=$2; shift 2
  local walls=() cpus=() peak=0
  for _ in $(seq "$n"); do
    /usr/bin/time -f "%e %U %S %M" -o "$tmp/time" "$@" >"$tmp/log" 2>&1 || { cat "$tmp/log"; exit 1; }
    read -r wall user sys kb <"$tmp/time"
    walls+=("$wall")
    cpus+=("$(awk -v u="$user" -v s="$sys" 'BEGIN { print u + s }')")
    ((kb > peak)) && peak=$kb
  done
  local mw mc
  mw=$(printf '%s\n' "${walls[@]}" | sort -n | sed -n "$(((n + 1) / 2))p")
  mc=$(printf '%s\n' "${cpus[@]}" | sort -n | sed -n "$(((n + 1) / 2))p")
  printf '| %s | %.1f s | %.1f s | %d MB |\n' "$name" "$mw" "$mc" $((peak / 1024))
}

echo "tf-check benchmark: $(nproc) cores, $("$TF" version 2>/dev/null | head -1), $(node --version), $runs run(s) each"
echo
echo "| what (dev, staging, prod) | wall | CPU (user+sys) | peak memory (largest process) |"
echo "|---|---|---|---|"
# First run: generates the check roots and runs terraform init in each.
measure "validate, first run (with init)" 1 "${CHECK[@]}" validate
measure "validate" "$runs" "${CHECK[@]}" validate
measure "rehearse" "$runs" "${CHECK[@]}" rehearse
echo
echo "Targets: validate < 20 s, rehearse < 30 s, no process above 2 GB."
