#!/usr/bin/env bash
# Starts the machine's PostgreSQL cluster for the tests (idempotently) and
# prints the URL of a test role that may create databases.
set -euo pipefail
# Only the URL may reach stdout (callers capture it): everything the cluster
# tools print, e.g. "Removed stale pid file.", goes to stderr.
exec 3>&1 1>&2
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo -E "$@"; fi; }

ver="$(ls /usr/lib/postgresql | sort -n | tail -1)"
if ! pg_lsclusters -h | awk '{print $1" "$2}' | grep -qx "$ver main"; then
  as_root pg_createcluster "$ver" main 3>&-
fi
if ! pg_lsclusters -h | awk -v v="$ver" '$1==v && $2=="main" {print $4}' | grep -q online; then
  as_root pg_ctlcluster "$ver" main start 3>&-
fi
port="$(pg_lsclusters -h | awk -v v="$ver" '$1==v && $2=="main" {print $3}')"
for _ in $(seq 1 30); do
  pg_isready -q -h 127.0.0.1 -p "$port" && break
  sleep 1
done
as_root runuser -u postgres -- psql -q -p "$port" -v ON_ERROR_STOP=1 -c "DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'slotwise_test') THEN
    CREATE ROLE slotwise_test LOGIN SUPERUSER PASSWORD 'slotwise_test';
  END IF; END \$\$;" >&2
# Each integration test makes its own database; drop the ones earlier runs
# left behind (they add up to gigabytes). Run one test suite at a time.
as_root runuser -u postgres -- psql -q -p "$port" -At -c \
  "SELECT datname FROM pg_database WHERE datname LIKE 'slotwise\_t\_%' OR datname LIKE 'slotwise\_bench\_%'" |
  while read -r db; do
    as_root runuser -u postgres -- psql -q -p "$port" -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >&2
  done
echo >&3 "postgres://slotwise_test:slotwise_test@127.0.0.1:$port/postgres"
