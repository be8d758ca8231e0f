#!/usr/bin/env bash
# Throwaway PostgreSQL servers on 127.0.0.1 for the tests and the fault runs.
#   postgres.sh [PORT [DATA]]   start a server (initialised on first use) and print its URL on stdout;
#                               DATA (default: a new temporary folder) holds it, so it can be restarted
#   postgres.sh --crash DATA    kill it as a crash would: every server process at once, no checkpoint
#   postgres.sh --stop DATA     stop it cleanly
# Installs Debian's postgresql package if no server binaries are present. Exits non-zero on failure.
set -euo pipefail
if ! ls -d /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    { apt-get update -qq && apt-get install -y -qq postgresql; } >&2
fi
bin="$(dirname "$(ls -d /usr/lib/postgresql/*/bin/initdb | sort -V | tail -1)")"
if [ "$(id -u)" = 0 ]; then
    run() { runuser -u postgres -- "$@"; }
else
    run() { "$@"; }
fi
case "${1:-}" in
    --crash) run "$bin/pg_ctl" -D "$2/db" -m immediate -w stop >&2; exit 0 ;;
    --stop) run "$bin/pg_ctl" -D "$2/db" -m fast -w stop >&2; exit 0 ;;
esac
port="${1:-55432}"
data="${2:-$(mktemp -d /tmp/degcore-pg.XXXXXX)}"
fresh=0
if [ ! -d "$data/db" ]; then
    mkdir -p "$data"
    [ "$(id -u)" = 0 ] && chown -R postgres "$data"
    run "$bin/initdb" -D "$data/db" -A trust -U degcore >/dev/null
    fresh=1
fi
run "$bin/pg_ctl" -D "$data/db" -o "-p $port -k $data -c listen_addresses=127.0.0.1" -l "$data/log" -w start >&2
[ "$fresh" = 1 ] && run "$bin/createdb" -h 127.0.0.1 -p "$port" -U degcore degcore
echo "postgresql://degcore@127.0.0.1:$port/degcore"
