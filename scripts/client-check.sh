#!/usr/bin/env bash
# Client tooling check (docs/client-tooling.md): prints the schema the server
# serves (cmd/portier-schema), runs GraphQL Code Generator over the example
# SPA's documents against it and against schema/*.graphqls, and fails on a
# breaking change against the released schema, schema/released/schema.graphql
# (graphql-inspector); dangerous and non-breaking changes are listed. A
# self-test makes sure both checks do fail on a removed field. Needs Go and
# Node 20; runs `npm ci` when node_modules is missing.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
[ -d /usr/local/go/bin ] && PATH=/usr/local/go/bin:$PATH

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if [ ! -d scripts/client-codegen/node_modules/@graphql-codegen/cli ]; then
	(cd scripts/client-codegen && npm ci --no-audit --no-fund)
fi

go run ./cmd/portier-schema -o "$tmp/schema.graphql"
cd scripts/client-codegen
node check.mjs "$tmp/schema.graphql" ../../schema/released/schema.graphql ../../examples/spa/operations.graphql \
	--sources '../../schema/*.graphqls' --self-test
