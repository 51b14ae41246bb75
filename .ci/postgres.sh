#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the team tests (profiles/team), used by
# .ci/run and by hand:
#
#   eval "$(bash .ci/postgres.sh start)"   # prints export lines, nothing else on stdout
#   go test ./profiles/team/...
#   bash .ci/postgres.sh stop               # uses $SBCTL_PG_DIR (or pass the directory)
#   bash .ci/postgres.sh env [DIR]          # prints the export lines again
#
# It installs nothing (CI installs Debian's postgresql first). The cluster
# lives in one temporary directory, listens only on a unix socket there (no
# TCP at all), and is set up the way a managed PostgreSQL hands a team its
# database: a login role sbctl_ci_owner that is NOT superuser but has
# CREATEROLE and CREATEDB, and owns database sbctl_ci. The tests create one
# database per test from there.
set -euo pipefail

die() { echo "postgres.sh: $*" >&2; exit 1; }

# find_bin prints the directory holding initdb and pg_ctl: PATH first, then
# Debian's versioned directories (newest first).
find_bin() {
  if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
    dirname "$(readlink -f "$(command -v initdb)")"
    return
  fi
  local d
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k4 -n -r); do
    if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then echo "$d"; return; fi
  done
  die "initdb/pg_ctl not found (on Debian: apt-get install postgresql)"
}

# initdb refuses to run as root, so under root the cluster belongs to the
# postgres user (created when missing); otherwise to the caller.
setup_user() {
  if [ "$(id -u)" -eq 0 ]; then
    if ! id postgres >/dev/null 2>&1; then
      useradd --system --user-group --no-create-home --shell /usr/sbin/nologin postgres
    fi
    su_user=postgres
  else
    su_user=$(id -un)
  fi
}

as_su() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

print_env() {
  local dir=$1
  [ -S "$dir/.s.PGSQL.5432" ] || die "no running cluster in $dir"
  # Keyword/value form: host is the socket directory.
  echo "export SBCTL_PG_DIR='$dir'"
  echo "export SBCTL_TEST_DATABASE_URL='host=$dir dbname=sbctl_ci user=sbctl_ci_owner'"
}

start() {
  local bin dir
  bin=$(find_bin)
  setup_user
  dir=$(mktemp -d "${TMPDIR:-/tmp}/sbctl-pg.XXXXXX")
  # 0700 and owned by the cluster's user: nobody else on the machine can
  # reach the socket (the owner role logs in without a password). Root
  # reaches it anyway, which is how CI's tests connect.
  chmod 0700 "$dir"
  if [ "$(id -u)" -eq 0 ]; then chown postgres:postgres "$dir"; fi

  as_su "$bin/initdb" -D "$dir/data" -U "$su_user" -E UTF8 --locale=C \
    --auth-local=peer --no-sync >"$dir/initdb.log" 2>&1 ||
    { cat "$dir/initdb.log" >&2; die "initdb failed"; }

  # Superuser only by peer (the OS user); the CI owner role without a
  # password (the directory is private); every other role — the logins the
  # tests create — must present its password, so password handling is real.
  as_su tee "$dir/data/pg_hba.conf" >/dev/null <<EOF
local all $su_user peer
local all sbctl_ci_owner trust
local all all scram-sha-256
EOF
  # Durability is worthless for a throwaway cluster; speed is not.
  as_su tee -a "$dir/data/postgresql.conf" >/dev/null <<EOF
listen_addresses = ''
unix_socket_directories = '$dir'
unix_socket_permissions = 0700
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
EOF
  as_su "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null ||
    { cat "$dir/server.log" >&2; die "pg_ctl start failed"; }

  # pg_signal_backend lets the owner's DROP DATABASE … WITH (FORCE) end the
  # sessions of the test logins, as a managed service's admin role can.
  as_su "$bin/psql" -X -q -v ON_ERROR_STOP=1 -h "$dir" -U "$su_user" -d postgres >/dev/null <<'EOF'
CREATE ROLE sbctl_ci_owner LOGIN CREATEROLE CREATEDB;
CREATE DATABASE sbctl_ci OWNER sbctl_ci_owner;
GRANT pg_signal_backend TO sbctl_ci_owner;
EOF
  echo "postgres.sh: PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on $dir (stop: bash .ci/postgres.sh stop $dir)" >&2
  print_env "$dir"
}

stop() {
  local dir=${1:-${SBCTL_PG_DIR:-}}
  [ -n "$dir" ] || die "stop: which cluster? pass its directory or set SBCTL_PG_DIR"
  [ -d "$dir/data" ] || die "stop: $dir holds no cluster"
  local bin
  bin=$(find_bin)
  as_su "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}

case "${1:-}" in
  start) start ;;
  stop) stop "${2:-}" ;;
  env)
    d=${2:-${SBCTL_PG_DIR:-}}
    [ -n "$d" ] || die "env: pass the cluster's directory or set SBCTL_PG_DIR"
    print_env "$d"
    ;;
  *) die "usage: postgres.sh start | stop [DIR] | env [DIR]" ;;
esac
