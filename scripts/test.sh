#!/usr/bin/env bash
# Runs every test of mdflow on a fresh machine: formatting, lints, unit and end-to-end tests,
# with the services they need (Azurite for Azure storage, a throwaway PostgreSQL cluster).
#
# Builds go to one cargo target folder outside the clone (default ~/.cache/mdflow/target) so
# that later runs, CI's included, reuse the Polars build instead of starting cold.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/mdflow/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
mkdir -p "$CARGO_TARGET_DIR"
cache="$HOME/.cache/mdflow"
services="$(mktemp -d)"
chmod 755 "$services"

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

stop_services() {
    if [[ -n "${azurite_pid:-}" ]]; then kill "$azurite_pid" 2>/dev/null || true; fi
    if [[ -n "${pg_data:-}" && -f "$pg_data/postmaster.pid" ]]; then
        runuser -u "$pg_user" -- pg_ctl -D "$pg_data" -m immediate stop >/dev/null 2>&1 || true
    fi
    rm -rf "$services"
}
trap stop_services EXIT

echo "== cargo fmt --check"
cargo fmt --all -- --check

echo "== cargo clippy"
cargo clippy --workspace --all-targets --quiet -- -D warnings

# Azurite, Microsoft's storage emulator, from npm (installed once, then cached).
echo "== azurite"
if [[ ! -x "$cache/azurite/node_modules/.bin/azurite-blob" ]]; then
    npm install --silent --no-audit --no-fund --prefix "$cache/azurite" azurite@3
fi
blob_port=$(free_port)
"$cache/azurite/node_modules/.bin/azurite-blob" --silent --skipApiVersionCheck \
    --blobHost 127.0.0.1 --blobPort "$blob_port" --location "$services/azurite" \
    >"$services/azurite.log" 2>&1 &
azurite_pid=$!
export MDFLOW_TEST_AZURITE="http://127.0.0.1:$blob_port/devstoreaccount1"
for _ in $(seq 50); do
    if node scripts/azurite-containers.js "$MDFLOW_TEST_AZURITE" conformance lake 2>/dev/null; then
        break
    fi
    sleep 0.2
done
node scripts/azurite-containers.js "$MDFLOW_TEST_AZURITE" conformance lake

# A throwaway PostgreSQL cluster on loopback. initdb refuses root, so it runs as `postgres`
# (created when missing) when this script runs as root.
echo "== postgresql"
pg_user=$(id -un)
if [[ $(id -u) == 0 ]]; then
    pg_user=postgres
    id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
fi
pg_data="$services/pg"
pg_port=$(free_port)
mkdir -p "$pg_data" && chown "$pg_user" "$pg_data"
runuser -u "$pg_user" -- initdb -D "$pg_data" -U mdflow --auth=trust -E UTF8 >/dev/null 2>&1 \
    || { echo "initdb failed"; exit 1; }
runuser -u "$pg_user" -- pg_ctl -D "$pg_data" -l "$pg_data/server.log" -w \
    -o "-p $pg_port -k $pg_data -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null
export MDFLOW_TEST_POSTGRES="host=127.0.0.1 port=$pg_port user=mdflow dbname=postgres"

echo "== cargo test"
cargo test --workspace --quiet 2>&1 | tee "$CARGO_TARGET_DIR/last-test.log"
echo "== total $(($(date +%s) - started))s"
