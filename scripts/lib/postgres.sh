# Sourced by scripts/test: a PostgreSQL server for the tests of the PostgreSQL backend.
# Uses $HERALD_TEST_POSTGRES (default postgres://postgres@127.0.0.1:5432) when it answers
# without a password; otherwise installs PostgreSQL if needed and starts a cluster of its own,
# "herald", on 127.0.0.1:5433 with trust authentication (tests only, loopback only).
ensure_postgres() {
  export HERALD_TEST_POSTGRES=${HERALD_TEST_POSTGRES:-postgres://postgres@127.0.0.1:5432}
  if command -v psql >/dev/null 2>&1 && psql "$HERALD_TEST_POSTGRES/postgres" -Atqc 'select 1' >/dev/null 2>&1; then
    return 0
  fi
  if ! command -v pg_createcluster >/dev/null 2>&1; then
    echo "installing PostgreSQL …" >&2
    # Install without starting Debian's default cluster: the tests start their own.
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >/dev/null
    rm -f /usr/sbin/policy-rc.d
  fi
  local ver
  ver=$(ls /usr/lib/postgresql | sort -n | tail -1)
  if ! pg_lsclusters -h | awk '{print $1, $2}' | grep -qx "$ver herald"; then
    pg_createcluster "$ver" herald -p 5433 -- --auth=trust >/dev/null
  fi
  pg_ctlcluster "$ver" herald start 2>/dev/null || true
  export HERALD_TEST_POSTGRES=postgres://postgres@127.0.0.1:5433
  for _ in $(seq 1 100); do
    psql "$HERALD_TEST_POSTGRES/postgres" -Atqc 'select 1' >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  echo "PostgreSQL did not come up at $HERALD_TEST_POSTGRES" >&2
  return 1
}

# Drop the per-test databases a previous run of the application tests left.
drop_test_databases() {
  psql "$HERALD_TEST_POSTGRES/postgres" -Atqc \
    "select datname from pg_database where datname like 'herald_apptest_%' or datname like 'herald_test_%'" |
    while read -r db; do
      psql "$HERALD_TEST_POSTGRES/postgres" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null
    done
}
