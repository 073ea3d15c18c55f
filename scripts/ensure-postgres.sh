#!/usr/bin/env bash
# Starts the local PostgreSQL cluster when it is down and prints the URL the tests
# use to reach it as a superuser over TCP (they create and drop scratch databases).
set -euo pipefail

url="${VIRTPLANE_TEST_POSTGRES:-postgres://postgres@127.0.0.1:5432}"
ready() { pg_isready -q -h 127.0.0.1 -p 5432; }

if ! ready; then
  version="$(ls /etc/postgresql | sort -V | tail -1)"
  echo "==> starting PostgreSQL $version" >&2
  pg_ctlcluster --skip-systemctl-redirect "$version" main start >&2 || true
  for _ in $(seq 1 50); do ready && break; sleep 0.2; done
  ready || { echo "PostgreSQL did not start" >&2; exit 1; }
fi

# A fresh Debian cluster asks TCP clients for a password: give the postgres role one.
if ! psql "$url/postgres" -Atqc 'select 1' >/dev/null 2>&1; then
  su postgres -c "psql -qc \"ALTER USER postgres PASSWORD 'postgres'\"" >&2
  url="postgres://postgres:postgres@127.0.0.1:5432"
fi
echo "$url"
