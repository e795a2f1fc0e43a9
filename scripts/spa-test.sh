#!/usr/bin/env bash
# Drives the example SPA (examples/spa) in headless Chromium against a
# freshly built Portier, from another origin: builds the server and the
# SPA's static file server, starts Portier on a free loopback port with
# SQLite in a temporary directory, a short access-token lifetime and the
# SPA's origin in PORTIER_CORS_ORIGINS, serves the SPA on two more ports
# (the allowed origin, and one that is not allowed), then runs
# scripts/spa-test/spa.test.mjs with Node's test runner. That script seeds a
# customer account and its customer admin through the GraphQL API and drives
# the SPA with playwright-core in the system Chromium.
#
# Needs Go, Node 20 and Chromium (/usr/bin/chromium, or CHROMIUM=path; on
# Debian: apt-get install chromium); runs `npm ci` when node_modules is
# missing. Keep the server log with SPA_TEST_KEEP=1.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
[ -d /usr/local/go/bin ] && PATH=/usr/local/go/bin:$PATH

chromium=${CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$chromium" ]; then
	echo "no Chromium at $chromium: install it (Debian: apt-get install chromium) or set CHROMIUM" >&2
	exit 1
fi

tmp=$(mktemp -d)
pids=()
cleanup() {
	local rc=$?
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	if [ "$rc" -ne 0 ] && [ -f "$tmp/server.log" ]; then
		echo "--- last lines of the server log:" >&2
		tail -n 30 "$tmp/server.log" >&2
	fi
	if [ -n "${SPA_TEST_KEEP:-}" ]; then
		echo "kept $tmp" >&2
	else
		rm -rf "$tmp"
	fi
}
trap cleanup EXIT

if [ ! -d scripts/spa-test/node_modules/playwright-core ]; then
	(cd scripts/spa-test && npm ci --no-audit --no-fund)
fi

go build -o "$tmp/portier" .
go build -o "$tmp/serve" ./examples/spa/serve

# Only Go and Node are assumed: Node finds free ports and polls readiness.
free_port() {
	node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}
api_port=$(free_port)
spa_port=$(free_port)
other_port=$(free_port)
api=http://127.0.0.1:$api_port/graphql
spa_origin=http://127.0.0.1:$spa_port
other_origin=http://127.0.0.1:$other_port
admin_password=spa-test-admin-password-0
ttl_seconds=6

# E-mails go to the log (no SMTP_URL): the test reads the activation link
# there, as a developer would.
PORT=$api_port DATABASE_URL= SMTP_URL= PORTIER_DATA_DIR=$tmp/data PORTIER_AUTO_MIGRATE=true \
	PORTIER_ADMIN_EMAIL=admin@example.com PORTIER_ADMIN_PASSWORD=$admin_password \
	PORTIER_CORS_ORIGINS=$spa_origin PORTIER_ACCESS_TOKEN_TTL=${ttl_seconds}s \
	PORTIER_PUBLIC_URL=http://portal.invalid PORTIER_LOG_LEVEL=info \
	"$tmp/portier" 2>"$tmp/server.log" &
pids+=($!)
server_pid=$!
"$tmp/serve" -addr "127.0.0.1:$spa_port" -dir examples/spa -api "$api" >"$tmp/serve.log" 2>&1 &
pids+=($!)
"$tmp/serve" -addr "127.0.0.1:$other_port" -dir examples/spa -api "$api" >"$tmp/serve-other.log" 2>&1 &
pids+=($!)

ready=
for _ in $(seq 1 150); do
	if node -e 'Promise.all(process.argv.slice(1).map(u=>fetch(u))).then(rs=>process.exit(rs.every(r=>r.ok)?0:1),()=>process.exit(1))' \
		"http://127.0.0.1:$api_port/readyz" "$spa_origin/" "$other_origin/"; then
		ready=1
		break
	fi
	if ! kill -0 "$server_pid" 2>/dev/null; then
		echo "portier exited before it was ready" >&2
		exit 1
	fi
	sleep 0.2
done
if [ -z "$ready" ]; then
	echo "portier or the SPA server did not become ready" >&2
	exit 1
fi

SPA_API=$api SPA_ORIGIN=$spa_origin SPA_OTHER_ORIGIN=$other_origin SPA_SERVER_LOG=$tmp/server.log \
	SPA_ADMIN_EMAIL=admin@example.com SPA_ADMIN_PASSWORD=$admin_password SPA_TTL_SECONDS=$ttl_seconds \
	CHROMIUM=$chromium node --test --test-reporter=spec scripts/spa-test/spa.test.mjs
