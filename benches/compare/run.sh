#!/usr/bin/env bash
# Issue 7's comparison harness: the reference jobs R1 (row-local), R2 (aggregate) and R3
# (join) in mdflow, DuckDB and Polars over the same `mdflow tenant generate` extract. Checks
# that the three engines write the same rows, then prints the median wall time of RUNS runs,
# rows/s and MB/s of the Message_v1 input, and peak RSS, side by side with ratios.
#
#   benches/compare/run.sh [--messages N] [--runs R]      (defaults 200000 and 3)
#
# mdflow runs each job as a pipeline (factory/pipeline/R*.json) whose ExecuteDataFlow reads
# the extract from a file:// lake and writes JSON Lines back to it; DuckDB and Polars run
# jobs.py in a virtual environment under ~/.cache/mdflow/bench-venv (created once, pinned).
# Every timed command is a fresh process, so start-up (Python's imports included) counts.
set -euo pipefail
cd "$(dirname "$0")/../.."
messages=200000
runs=3
while [[ $# -gt 0 ]]; do
    case $1 in
        --messages) messages=$2; shift 2 ;;
        --runs) runs=$2; shift 2 ;;
        *) echo "usage: benches/compare/run.sh [--messages N] [--runs R]" >&2; exit 2 ;;
    esac
done
per_user=100
users=$(( (messages + per_user - 1) / per_user ))

echo "== build"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/mdflow/target}"
cargo build --release --quiet --bin mdflow
mdflow="$CARGO_TARGET_DIR/release/mdflow"

echo "== python environment"
venv="$HOME/.cache/mdflow/bench-venv"
[[ -x "$venv/bin/python" ]] || python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check duckdb==2.0.1 polars==2.1.0
python="$venv/bin/python"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r benches/compare/factory "$work/factory"
tenant="$work/factory/lake/tenant"

echo "== generate: $users mailboxes, $per_user messages each on average"
"$mdflow" tenant generate --users "$users" --messages-per-user "$per_user" --seed 1 \
    --from 2024-01-01 --to 2024-12-31 --tables Message_v1,User_v1 --out "$tenant"
input="$tenant/BasicDataSet_v0.Message_v1/part-00000.json"
rows=$(wc -l < "$input")
bytes=$(stat -c %s "$input")

measure() { # engine job command...: appends "job engine seconds peak_kb" per run
    local engine=$1 job=$2; shift 2
    for _ in $(seq "$runs"); do
        /usr/bin/time -o "$work/one" -f "%e %M" "$@" >/dev/null 2>"$work/log" \
            || { cat "$work/log" "$work/one"; echo "$engine $job failed" >&2; exit 1; }
        echo "$job $engine $(tail -1 "$work/one")" >> "$work/times"
    done
}
mkdir -p "$work/out"
for job in r1 r2 r3; do
    echo "== $job"
    pipeline=$(echo "$job" | tr r R)
    measure mdflow "$job" "$mdflow" run "$work/factory" --pipeline "$pipeline"
    measure duckdb "$job" "$python" benches/compare/jobs.py duckdb "$job" "$tenant" \
        "$work/out/duckdb-$job.json"
    measure polars "$job" "$python" benches/compare/jobs.py polars "$job" "$tenant" \
        "$work/out/polars-$job.json"
    "$python" benches/compare/compare.py "$job" "$work/factory/lake/out/$job/part-00000.json" \
        "$work/out/duckdb-$job.json" "$work/out/polars-$job.json"
done

echo "== results: $rows Message_v1 rows, $(( bytes / 1000000 )) MB of JSON Lines, $runs runs"
echo "   (speed-up = the peer's median / mdflow's; memory = mdflow's peak / the peer's)"
sort -k1,1 -k2,2 -k3n "$work/times" | awk -v rows="$rows" -v bytes="$bytes" '
    { key = $1 " " $2; t[key] = t[key] " " $3; n[key]++
      if ($4 > m[key]) m[key] = $4 }
    END {
        printf "%-4s %-7s %9s %11s %8s %10s %9s %9s\n", "job", "engine", "median s", "rows/s",
            "MB/s", "peak MB", "speed-up", "memory"
        split("r1 r2 r3", jobs, " "); split("mdflow duckdb polars", engines, " ")
        for (j = 1; j <= 3; j++) for (e = 1; e <= 3; e++) {
            key = jobs[j] " " engines[e]
            split(substr(t[key], 2), v, " "); med[key] = v[int((n[key] + 1) / 2)]
        }
        for (j = 1; j <= 3; j++) for (e = 1; e <= 3; e++) {
            key = jobs[j] " " engines[e]; mine = jobs[j] " mdflow"
            up = e == 1 ? "" : sprintf("%.2fx", med[key] / med[mine])
            mem = e == 1 ? "" : sprintf("%.2fx", m[mine] / m[key])
            printf "%-4s %-7s %9.2f %11.0f %8.1f %10.1f %9s %9s\n", jobs[j], engines[e],
                med[key], rows / med[key], bytes / 1e6 / med[key], m[key] / 1024, up, mem
        }
    }'
