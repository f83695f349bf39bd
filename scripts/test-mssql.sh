#!/usr/bin/env bash
# Runs the real-server suite (packages/db/test/mssql.test.ts: the conformance and operations suites,
# the SQL Server specifics, the partitioned layout) against the SQL Server or Azure SQL that
# TEST_MSSQL_URL points at, twice: with READ_COMMITTED_SNAPSHOT OFF (the SQL Server default) and ON
# (Azure SQL Database's default). TEST_MSSQL_RCSI=on or off runs only that one:
#
#   TEST_MSSQL_URL='mssql://sa:Passw0rd!@127.0.0.1:1433/master?trustServerCertificate=true' scripts/test-mssql.sh
#
# The login must be allowed to CREATE DATABASE and CREATE LOGIN: every block of the suite gets a fresh
# database (created, migrated, dropped after) and an execute-only login in the coupon_app role. On a
# server where that login cannot be created (Azure SQL Database: logins live in master), add
# TEST_MSSQL_APP_LOGIN=0 to run the store as the given login instead. Extra arguments go to mocha.
set -euo pipefail

for arg in "$@"; do
  if [[ "$arg" == "-h" || "$arg" == "--help" ]]; then
    # the comment block at the top of this file, and nothing else
    awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
    exit 0
  fi
done

cd "$(dirname "$0")/.."

if [ -z "${TEST_MSSQL_URL:-}" ]; then
  echo "TEST_MSSQL_URL is not set; point it at a SQL Server, e.g." >&2
  echo "  TEST_MSSQL_URL='mssql://sa:Passw0rd!@127.0.0.1:1433/master?trustServerCertificate=true' $0" >&2
  exit 2
fi

# the target, without its password
echo "SQL Server under test: $(printf '%s' "$TEST_MSSQL_URL" | sed -E 's#(//[^:/@]+:)[^@]*@#\1***@#')"
modes=("${TEST_MSSQL_RCSI:-off}")
[ -n "${TEST_MSSQL_RCSI:-}" ] || modes=(off on)
for mode in "${modes[@]}"; do
  echo "READ_COMMITTED_SNAPSHOT $mode"
  TEST_MSSQL_RCSI="$mode" npx mocha packages/db/test/mssql.test.ts "$@"
done
