#!/bin/bash
# The mssql-init service of docker-compose.yml: checks the password variables, then runs init.sql as sa.
# sqlcmd reads the sa password from SQLCMDPASSWORD and the role passwords as scripting variables from the
# environment, so no password is on a command line.
set -euo pipefail

fail() {
  echo "mssql-init: $*" >&2
  exit 1
}

[ -n "${MSSQL_SA_PASSWORD:-}" ] || fail "MSSQL_SA_PASSWORD is not set"
for name in MSSQL_MIGRATE_PASSWORD MSSQL_CONSUMER_PASSWORD MSSQL_API_PASSWORD; do
  value="${!name:-}"
  [ -n "$value" ] || fail "$name is not set"
  # init.sql puts the value in an N'…' literal, and docker-compose.yml in MSSQL_CONN's {…} quoting: a ' or a }
  # would end them early. The message names the variable, never its value.
  case "$value" in
    *"'"* | *"}"*) fail "$name contains ' or }, which this deployment cannot quote; choose another password" ;;
  esac
done

export SQLCMDPASSWORD="$MSSQL_SA_PASSWORD"
exec /opt/mssql-tools18/bin/sqlcmd -S mssql -U sa -C -b -i /deploy/init.sql
