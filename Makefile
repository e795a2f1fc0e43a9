# Portier. `make run` serves on :8080 with SQLite; `make test` runs every test
# on SQLite and on PostgreSQL.
SHELL := /bin/bash
export PATH := /usr/local/go/bin:$(PATH)
GO ?= go
PKGS := ./...
TESTFLAGS ?= -count=1 -timeout 15m

.PHONY: run migrate migration build test test-sqlite test-postgres generate lint fmt bench gobench http-audit spa spa-test client-check schema-snapshot

run:
	PORTIER_AUTO_MIGRATE=$${PORTIER_AUTO_MIGRATE:-true} $(GO) run .

# Applies the database migrations (DATABASE_URL, else the SQLite file of
# `make run`); see docs/operations.md, "Database migrations".
migrate:
	$(GO) run . migrate

# Writes a new migration for each dialect from the ent schema's changes:
# make migration NAME=what_changed (review the files, then commit them).
migration:
	@test -n "$(NAME)" || { echo "usage: make migration NAME=what_changed" >&2; exit 1; }
	env -u DATABASE_URL scripts/with-postgres.sh $(GO) run ./cmd/portier-migrations $(NAME)

build:
	$(GO) build -trimpath -ldflags='-s -w' -o bin/portier .

test: test-sqlite test-postgres

test-sqlite:
	@echo "== tests on SQLite"
	TEST_DATABASE_URL= $(GO) test $(TESTFLAGS) $(PKGS)

test-postgres:
	@echo "== tests on PostgreSQL"
	scripts/with-postgres.sh $(GO) test $(TESTFLAGS) $(PKGS)

generate:
	cd ent && $(GO) run -mod=mod entc.go
	$(GO) tool gqlgen generate
	$(GO) run ./graph/seqexec graph/generated/generated.go
	$(GO) build ./graph/...

lint:
	$(GO) vet $(PKGS)
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

fmt:
	gofmt -w $$(git ls-files '*.go')

# The load benchmark (cmd/portier-bench) on a throwaway PostgreSQL cluster
# with pg_stat_statements, never an external DATABASE_URL. BASE=<rev> compares
# with another revision; BENCH_DURATION, BENCH_WARMUP, BENCH_SCENARIOS,
# BENCH_CONC, BENCH_PPROF and BENCH_KEEP are read from the environment.
bench:
	env -u DATABASE_URL WITH_POSTGRES_OPTS='-c shared_preload_libraries=pg_stat_statements' \
		scripts/with-postgres.sh $(GO) run ./cmd/portier-bench

# The Go benchmarks (evaluator, directive path, nested page, worst cases).
gobench:
	$(GO) test -run '^$$' -bench . -benchmem ./graph/...

# The graphql-http server audits (GraphQL over HTTP conformance) against a
# freshly built server: fails on any MUST or SHOULD failure.
http-audit:
	cd scripts/graphql-http-audit && npm ci --no-audit --no-fund
	scripts/graphql-http-audit.sh

# The example SPA (examples/spa) on its own origin, http://127.0.0.1:5173;
# run Portier with PORTIER_CORS_ORIGINS=http://127.0.0.1:5173 beside it.
spa:
	$(GO) run ./examples/spa/serve -addr 127.0.0.1:5173 -api http://127.0.0.1:$${PORT:-8080}/graphql

# Drives the example SPA in headless Chromium (/usr/bin/chromium) against a
# freshly built server: login, refresh, accounts, a new contact, CORS.
spa-test:
	cd scripts/spa-test && npm ci --no-audit --no-fund
	scripts/spa-test.sh

# Client tooling: GraphQL Code Generator over the example SPA's documents,
# and no breaking change against schema/released/schema.graphql
# (docs/client-tooling.md).
client-check:
	cd scripts/client-codegen && npm ci --no-audit --no-fund
	scripts/client-check.sh

# On a release: the released schema becomes the current one.
schema-snapshot:
	$(GO) run ./cmd/portier-schema -o schema/released/schema.graphql
