// Checks that client tooling accepts Portier's schema, and that the schema
// breaks no client of the last release (docs/client-tooling.md):
//
//   1. GraphQL Code Generator (typescript + typescript-operations) builds
//      the schema and generates types for the client documents; a document
//      that no longer validates against the schema fails.
//   2. graphql-inspector compares the released schema with the current
//      one: any BREAKING change fails; DANGEROUS and NON_BREAKING changes
//      are listed.
//   3. --self-test: the same two checks must fail on a schema with a field
//      of the documents removed, so that a check that passes everything
//      cannot go unnoticed.
//
//   node check.mjs CURRENT_SCHEMA RELEASED_SCHEMA DOCUMENTS... [--sources GLOB] [--self-test]
//
// scripts/client-check.sh prints CURRENT_SCHEMA with cmd/portier-schema.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate } from '@graphql-codegen/cli';
import { CriticalityLevel, diff } from '@graphql-inspector/core';
import { buildSchema, parse } from 'graphql';

const args = process.argv.slice(2);
const selfTest = args.includes('--self-test');
// --sources GLOB: also generate from the schema's source files, as an
// editor plugin or a client project pointing at them would.
const sourcesAt = args.indexOf('--sources');
const sources = sourcesAt >= 0 ? args.splice(sourcesAt, 2)[1] : null;
const [currentFile, releasedFile, ...documents] = args.filter((a) => a !== '--self-test');
if (!currentFile || !releasedFile || documents.length === 0) {
  console.error('usage: node check.mjs CURRENT_SCHEMA RELEASED_SCHEMA DOCUMENTS... [--sources GLOB] [--self-test]');
  process.exit(2);
}

// Scalars as JSON carries them (docs/api.md, "Times and dates").
const scalars = { Time: 'string', Date: 'string', Cursor: 'string', ID: 'string', Int64: 'number' };

// codegen generates TypeScript types for the documents against the schema
// in schemaFile; it throws when a document does not validate. Returns the
// generated source.
async function codegen(schemaFile) {
  const out = await mkdtemp(join(tmpdir(), 'portier-codegen-'));
  try {
    const file = join(out, 'operations.ts');
    const [result] = await generate({
      schema: schemaFile,
      documents,
      silent: true,
      errorsOnly: true,
      generates: {
        [file]: { plugins: ['typescript', 'typescript-operations'], config: { scalars, strictScalars: true, enumsAsTypes: true, onlyOperationTypes: true } },
      },
    }, true);
    const written = await readFile(file, 'utf8');
    if (written !== result.content) throw new Error('codegen: the written file differs from its result');
    return written;
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}

// The operation names of the documents, each of which must have types.
async function operationNames() {
  const names = [];
  for (const d of documents) {
    for (const def of parse(await readFile(d, 'utf8')).definitions) {
      if (def.kind === 'OperationDefinition') names.push(`${def.name.value}${def.operation[0].toUpperCase()}${def.operation.slice(1)}`);
    }
  }
  return names;
}

// breaking returns the changes from released to current, printed by level.
async function changes(releasedSDL, currentSDL, quiet) {
  const list = await diff(buildSchema(releasedSDL), buildSchema(currentSDL));
  const by = (level) => list.filter((c) => c.criticality.level === level);
  if (!quiet) {
    for (const [level, title] of [[CriticalityLevel.Breaking, 'BREAKING'], [CriticalityLevel.Dangerous, 'dangerous'], [CriticalityLevel.NonBreaking, 'non-breaking']]) {
      const cs = by(level);
      console.log(`${title} changes against the released schema: ${cs.length}`);
      for (const c of cs) console.log(`  ${c.path ? c.path + ': ' : ''}${c.message}${c.criticality.reason ? ` (${c.criticality.reason})` : ''}`);
    }
  }
  return by(CriticalityLevel.Breaking);
}

const currentSDL = await readFile(currentFile, 'utf8');
const releasedSDL = await readFile(releasedFile, 'utf8');
let failed = false;

// 1. Code generation.
for (const schema of [currentFile, sources].filter(Boolean)) {
  try {
    const ts = await codegen(schema);
    const missing = (await operationNames()).filter((n) => !ts.includes(`export type ${n} =`));
    if (missing.length) throw new Error(`no types generated for ${missing.join(', ')}`);
    console.log(`codegen from ${schema}: types generated for ${documents.join(', ')} (${ts.length} characters)`);
  } catch (e) {
    failed = true;
    console.error(`codegen from ${schema} FAILED: a client document does not fit the schema:\n${e.message || e}`);
    for (const d of e.errors || []) console.error(`  ${d.message || d}`);
  }
}

// 2. Breaking changes.
const breaking = await changes(releasedSDL, currentSDL, false);
if (breaking.length) {
  failed = true;
  console.error(`${breaking.length} breaking change(s) against schema/released/schema.graphql: keep the old fields (deprecate them with @deprecated) or, for a release that may break clients, update the snapshot (docs/client-tooling.md)`);
}

// 3. Self-test: remove Query.me, which the documents use.
if (selfTest) {
  const broken = currentSDL.replace(/^(\s+)me(: Me!)/m, '$1whoAmI$2');
  if (broken === currentSDL) throw new Error('self-test: Query.me not found in the schema');
  const dir = await mkdtemp(join(tmpdir(), 'portier-codegen-self-'));
  try {
    const file = join(dir, 'schema.graphql');
    await writeFile(file, broken);
    let caught = false;
    try { await codegen(file); } catch (_) { caught = true; }
    const b = await changes(currentSDL, broken, true);
    const removed = b.some((c) => c.path === 'Query.me');
    console.log(`self-test: codegen ${caught ? 'refuses' : 'ACCEPTS'} documents using a removed field; inspector ${removed ? 'reports' : 'MISSES'} the removal as breaking`);
    if (!caught || !removed) failed = true;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (failed) process.exit(1);
console.log('client check OK');
