#!/usr/bin/env bash
# Start a throwaway PostgreSQL server on 127.0.0.1 for the tests; print its URL on stdout.
# Installs Debian's postgresql package if no server binaries are present. Exits non-zero on failure.
set -euo pipefail
port="${1:-55432}"
data="$(mktemp -d /tmp/degcore-pg.XXXXXX)"
if ! ls -d /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    { apt-get update -qq && apt-get install -y -qq postgresql; } >&2
fi
bin="$(dirname "$(ls -d /usr/lib/postgresql/*/bin/initdb | sort -V | tail -1)")"
if [ "$(id -u)" = 0 ]; then
    chown -R postgres "$data"
    run() { runuser -u postgres -- "$@"; }
else
    run() { "$@"; }
fi
run "$bin/initdb" -D "$data/db" -A trust -U degcore >/dev/null
run "$bin/pg_ctl" -D "$data/db" -o "-p $port -k $data -c listen_addresses=127.0.0.1" -l "$data/log" -w start >&2
run "$bin/createdb" -h 127.0.0.1 -p "$port" -U degcore degcore
echo "postgresql://degcore@127.0.0.1:$port/degcore"
