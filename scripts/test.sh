#!/usr/bin/env bash
# Runs every test of mdflow on a fresh machine: formatting, lints, unit and end-to-end tests.
#
# Builds go to one cargo target folder outside the clone (default ~/.cache/mdflow/target) so
# that later runs, CI's included, reuse the Polars build instead of starting cold.
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/mdflow/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
mkdir -p "$CARGO_TARGET_DIR"

# The tests of issues #2 and #3 need no service: the synthetic tenant runs in-process and the
# lake is a local folder. Services (Azurite, PostgreSQL) are started here once tests use them.

echo "== cargo fmt --check"
cargo fmt --all -- --check

echo "== cargo clippy"
cargo clippy --workspace --all-targets --quiet -- -D warnings

echo "== cargo test"
cargo test --workspace --quiet 2>&1 | tee "$CARGO_TARGET_DIR/last-test.log"
