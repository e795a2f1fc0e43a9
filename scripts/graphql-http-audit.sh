#!/usr/bin/env bash
# Runs the graphql-http server audits (GraphQL over HTTP conformance) against
# a freshly built Portier: builds the server, starts it on a free loopback
# port with SQLite in a temporary directory, runs
# scripts/graphql-http-audit/audit.mjs, stops the server. Exits non-zero on
# any MUST or SHOULD failure (and on a MAY failure that audit.mjs does not
# explain). Needs Go and Node 20; runs `npm ci` when node_modules is missing.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
[ -d /usr/local/go/bin ] && PATH=/usr/local/go/bin:$PATH

tmp=$(mktemp -d)
pid=
cleanup() {
	if [ -n "$pid" ]; then
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

if [ ! -d scripts/graphql-http-audit/node_modules ]; then
	(cd scripts/graphql-http-audit && npm ci --no-audit --no-fund)
fi

go build -o "$tmp/portier" .

# Only Go and Node are assumed: Node finds a free port and polls readiness.
port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')

PORT=$port DATABASE_URL= PORTIER_AUTO_MIGRATE=true PORTIER_DATA_DIR=$tmp/data PORTIER_ADMIN_PASSWORD=audit-only-password-0 PORTIER_LOG_LEVEL=warn \
	"$tmp/portier" 2>"$tmp/server.log" &
pid=$!

ready=
for _ in $(seq 1 100); do
	if node -e 'fetch(process.argv[1]).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))' "http://127.0.0.1:$port/readyz"; then
		ready=1
		break
	fi
	if ! kill -0 "$pid" 2>/dev/null; then
		echo "portier exited before it was ready:" >&2
		cat "$tmp/server.log" >&2
		exit 1
	fi
	sleep 0.2
done
if [ -z "$ready" ]; then
	echo "portier did not become ready:" >&2
	cat "$tmp/server.log" >&2
	exit 1
fi

node scripts/graphql-http-audit/audit.mjs "http://127.0.0.1:$port/graphql"
