#!/usr/bin/env bash
# Run a command with TEST_DATABASE_URL pointing at a PostgreSQL database.
#
# Usage: scripts/with-postgres.sh CMD [ARGS...]
#
# If DATABASE_URL is set (postgres:// or postgresql:// URL), it is passed to
# CMD as TEST_DATABASE_URL and nothing else happens.
#
# Otherwise a throwaway cluster is created with initdb in a temporary
# directory, started on a free port on 127.0.0.1 (never the system server on
# 5432), used for CMD, then stopped and deleted whatever happens.  When run as
# root the cluster runs as $WITH_POSTGRES_USER (default: nobody), because
# initdb/postgres refuse to run as root.
#
# The PostgreSQL server binaries are taken from $PG_BINDIR if set, else from
# PATH, else from the newest /usr/lib/postgresql/<ver>/bin.
#
# $WITH_POSTGRES_OPTS, if set, is appended to the throwaway server's options
# (pg_ctl -o), e.g. "-c shared_preload_libraries=pg_stat_statements"; it is
# not used with an external DATABASE_URL.
#
# Exits with CMD's exit status.
set -euo pipefail

prog=with-postgres

die() {
	echo "$prog: error: $*" >&2
	exit 1
}

[ "$#" -gt 0 ] || die "usage: $0 CMD [ARGS...]"

# Strip any password from a URL for display.
redact() {
	printf '%s' "$1" | sed -E -e 's#^([A-Za-z][A-Za-z0-9+.-]*://[^:/@]*):[^/]*@#\1:***@#' \
		-e 's#([?&]password=)[^&]*#\1***#g'
}

# --- external database ------------------------------------------------------
if [ -n "${DATABASE_URL:-}" ]; then
	case "$DATABASE_URL" in
	postgres://* | postgresql://*) ;;
	*) die "DATABASE_URL is set but is not a postgres:// URL: $(redact "$DATABASE_URL")" ;;
	esac
	echo "$prog: using DATABASE_URL $(redact "$DATABASE_URL")" >&2
	TEST_DATABASE_URL=$DATABASE_URL
	export TEST_DATABASE_URL
	exec "$@"
fi

# --- throwaway cluster ------------------------------------------------------
find_bindir() {
	local d cand
	local -a dirs
	if cand=$(command -v initdb 2>/dev/null) && command -v pg_ctl >/dev/null 2>&1; then
		dirname "$cand"
		return
	fi
	# Newest version first.
	mapfile -t dirs < <(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V -r)
	for d in "${dirs[@]}"; do
		if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then
			echo "$d"
			return
		fi
	done
	return 1
}

if [ -n "${PG_BINDIR:-}" ]; then
	[ -x "$PG_BINDIR/initdb" ] && [ -x "$PG_BINDIR/pg_ctl" ] ||
		die "PG_BINDIR=$PG_BINDIR does not contain executable initdb and pg_ctl"
	bindir=$PG_BINDIR
else
	bindir=$(find_bindir) ||
		die "PostgreSQL server binaries (initdb, pg_ctl) not found on PATH or in /usr/lib/postgresql/*/bin; install the PostgreSQL server package, set PG_BINDIR, or set DATABASE_URL=postgres://..."
fi
initdb_bin=$bindir/initdb
pg_ctl_bin=$bindir/pg_ctl

if [ "$(id -u)" -eq 0 ]; then
	pg_user=${WITH_POSTGRES_USER:-nobody}
	command -v runuser >/dev/null 2>&1 || die "running as root but runuser(1) is not available to drop privileges for initdb"
	id -u "$pg_user" >/dev/null 2>&1 || die "user '$pg_user' does not exist (set WITH_POSTGRES_USER)"
	as_pg() { runuser -u "$pg_user" -- "$@"; }
	# Root's TMPDIR may not be reachable by the unprivileged user.
	tmpbase=/tmp
else
	as_pg() { "$@"; }
	tmpbase=${TMPDIR:-/tmp}
	# The Unix socket path ($dir/.s.PGSQL.PORT) must stay under ~100 bytes.
	[ "${#tmpbase}" -le 60 ] || tmpbase=/tmp
fi

origdir=$PWD
dir=$(mktemp -d "$tmpbase/pgtest.XXXXXX")
data=$dir/data
log=$dir/postgres.log
started=

cleanup() {
	local rc=$? pid
	trap - EXIT INT TERM
	set +e
	if [ -n "$started" ]; then
		# A signal may have hit while pg_ctl start was running: give the
		# postmaster a moment to write its pid file.
		for _ in 1 2 3 4 5 6 7 8 9 10; do
			[ -f "$data/postmaster.pid" ] && break
			sleep 0.2
		done
		if [ -f "$data/postmaster.pid" ] &&
			! (cd / && as_pg "$pg_ctl_bin" -D "$data" -m immediate -w -t 30 stop >/dev/null 2>&1); then
			# Last resort: kill the postmaster directly.
			pid=$(head -n 1 "$data/postmaster.pid" 2>/dev/null)
			if [ -n "$pid" ]; then
				kill -QUIT "$pid" 2>/dev/null
				for _ in 1 2 3 4 5 6 7 8 9 10; do
					kill -0 "$pid" 2>/dev/null || break
					sleep 0.2
				done
				kill -KILL "$pid" 2>/dev/null
			fi
		fi
	fi
	rm -rf "$dir"
	exit "$rc"
}
# CMD runs in the foreground, so Ctrl-C reaches it directly; the postmaster
# runs in its own session and is stopped by cleanup.  A SIGTERM sent only to
# this script takes effect once CMD has exited (bash defers traps).
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

case "$dir" in
*[[:space:]\'\"]*) die "temporary directory path contains unsupported characters: $dir" ;;
esac

if [ "$(id -u)" -eq 0 ]; then
	chown "$pg_user:" "$dir"
fi

# Run the server tools from a directory the cluster user can read.
cd "$dir"

if ! as_pg "$initdb_bin" -D "$data" -U postgres --auth=trust -E UTF8 --locale=C --no-sync >"$dir/initdb.log" 2>&1; then
	cat "$dir/initdb.log" >&2
	die "initdb failed"
fi

port_in_use() {
	# Succeeds if something accepts TCP connections on 127.0.0.1:$1.
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

port=
attempt=0
while [ -z "$started" ]; do
	attempt=$((attempt + 1))
	[ "$attempt" -le 20 ] || {
		cat "$log" >&2 2>/dev/null
		die "could not start PostgreSQL on a free port after 20 attempts"
	}
	port=$((20000 + RANDOM % 40000))
	port_in_use "$port" && continue
	: >"$log"
	[ "$(id -u)" -ne 0 ] || chown "$pg_user:" "$log"
	opts="-p $port -k '$dir' -c listen_addresses=127.0.0.1"
	opts+=" -c fsync=off -c full_page_writes=off -c synchronous_commit=off"
	opts+=" -c max_connections=200"
	[ -z "${WITH_POSTGRES_OPTS:-}" ] || opts+=" $WITH_POSTGRES_OPTS"
	started=1 # from here on, cleanup must stop the server
	if as_pg "$pg_ctl_bin" -D "$data" -l "$log" -o "$opts" -w -t 60 start >/dev/null 2>&1; then
		:
	elif grep -qiE 'could not bind|address already in use|could not create any TCP/IP sockets' "$log"; then
		started= # lost a race for the port; try another
		continue
	else
		cat "$log" >&2
		die "pg_ctl start failed"
	fi
done

TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"
export TEST_DATABASE_URL
echo "$prog: using throwaway PostgreSQL $("$pg_ctl_bin" --version | awk '{print $3}') at $TEST_DATABASE_URL (data in $dir)" >&2

cd "$origdir"
set +e
"$@"
rc=$?
set -e
exit "$rc"
