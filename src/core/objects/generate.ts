/**
 * Build-time generator of the precompiled validators: ajv standalone code for each module of
 * schemas.ts, written to src/core/objects/generated/<file>.ts (gitignored, `// @ts-nocheck`).
 * Nothing compiles a schema at run time: the server, the client and the agent import plain
 * functions (the agent only the wire modules it decodes).
 *
 * `npm run generate` bundles this file with esbuild and runs it (before tsc, in `npm run
 * build`); the unit tests' global setup calls `generateValidators` too. Output is
 * deterministic, and a file whose content did not change is not rewritten.
 *
 * Options: `useDefaults` (validating also defaults, Kubernetes' defaults live in the schemas),
 * `verbose` (errors carry the failing schema node, whose annotation keywords the formatters
 * read, and the data), `messages: false` (the formatters word errors themselves),
 * `unicode: false` (lengths in UTF-16 units, as the hand-written limits always were). The code
 * is minified with esbuild: processes keep it in memory, and it is never read by people.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv, type Options } from 'ajv';
import { transformSync } from 'esbuild';
import * as standalone from 'ajv/dist/standalone/index.js';
import { ANNOTATION_KEYWORDS, isUnsupportedMarker } from './kit.js';
import { KIND_TABLE } from './kind-table.js';
import { SHARED_SCHEMAS, VALIDATOR_MODULES, type ValidatorModule } from './schemas.js';

type Json = { [key: string]: unknown };

/** A plain JSON copy (TypeBox's symbol keys dropped), so the output depends on the JSON only. */
function plain<T>(schema: T): Json {
  return JSON.parse(JSON.stringify(schema)) as Json;
}

/**
 * The wire form of a schema: in closed objects, fields rejected by name become unknown fields
 * (removed on decode), and an `additionalProperties` that rejects by name becomes `false` (also
 * removed). A newer server may send what an older agent's objects would refuse; the agent drops
 * it, as it always dropped what it did not know.
 */
export function wireForm(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(wireForm);
  if (typeof schema !== 'object' || schema === null) return schema;
  const out: Json = {};
  for (const [key, value] of Object.entries(schema as Json)) out[key] = wireForm(value);
  if (out.additionalProperties !== undefined && isUnsupportedMarker(out.additionalProperties)) out.additionalProperties = false;
  if (out.additionalProperties === false && typeof out.properties === 'object' && out.properties !== null) {
    const props = out.properties as Json;
    for (const [name, sub] of Object.entries(props)) if (isUnsupportedMarker(sub)) delete props[name];
  }
  return out;
}

function ajvOptions(wire: boolean, schemas: Json[]): Options {
  return {
    code: { source: true, esm: true },
    schemas,
    allErrors: !wire,
    verbose: true,
    messages: false,
    useDefaults: true,
    removeAdditional: wire,
    unicode: false,
    strict: true,
    strictRequired: false,
    allowUnionTypes: true,
    discriminator: true,
    inlineRefs: false,
    keywords: [...ANNOTATION_KEYWORDS],
    logger: {
      log: () => undefined,
      // `unicode` is deprecated but is the only way to keep UTF-16 lengths; anything else is a schema bug.
      warn: (...args: unknown[]) => {
        if (!String(args[0]).includes('option unicode')) throw new Error(`ajv: ${args.map(String).join(' ')}`);
      },
      error: (...args: unknown[]) => {
        throw new Error(`ajv: ${args.map(String).join(' ')}`);
      },
    },
  };
}

/** ajv's ESM output still `require`s its runtime helpers: turn each into an import. */
function esmImports(code: string): string {
  const imports: string[] = [];
  const body = code.replace(/const (\w+) = require\("([^"]+)"\)\.default;/g, (_all, name: string, module: string) => {
    imports.push(`import ${name}_module from "${module.endsWith('.js') ? module : `${module}.js`}";`);
    return `const ${name} = ${name}_module.default;`;
  });
  if (/\brequire\(/.test(body)) throw new Error('generated validator code still calls require()');
  return imports.join('\n') + (imports.length ? '\n' : '') + body;
}

/** The generated TypeScript source of one module. */
export function moduleSource(module: ValidatorModule): string {
  const form = (s: unknown) => plain(module.wire ? wireForm(plain(s)) : s);
  const shared = SHARED_SCHEMAS.map(form);
  const ids = new Set(shared.map((s) => s.$id));
  const roots = Object.values(module.exports).filter((s) => !ids.has(s.$id)).map(form);
  const documents = (module.documents ?? []).map((d) => plain(d));
  const ajv = new Ajv(ajvOptions(module.wire, [...shared, ...roots, ...documents]));
  const refs = { ...Object.fromEntries(Object.entries(module.exports).map(([name, s]) => [name, String(s.$id)])), ...module.refs };
  const generateCode = (standalone as unknown as { default: (ajv: Ajv, refs: Record<string, string>) => string }).default;
  // Minified: the agent keeps this source in memory (about half the RSS of ajv's verbose output).
  const code = transformSync(esmImports(generateCode(ajv, refs)), { minify: true, format: 'esm', target: 'es2022', legalComments: 'none' }).code.trim();
  const digest = createHash('sha256').update(code).digest('hex').slice(0, 16);
  return `// @ts-nocheck\n// Generated by src/core/objects/generate.ts (${module.wire ? 'wire' : 'objects'} module, ${digest}): do not edit.\n${code}\n`;
}

/**
 * The kind table without its schemas (generated/kind-names.ts): what the registry (kinds.ts)
 * reads at run time, so that a server or agent builds no TypeBox schema and loads no TypeBox.
 */
export function kindNamesSource(): string {
  const rows = Object.entries(KIND_TABLE).map(([kind, { apiVersion, plural, shortNames, namespaced, hasStatus }]) =>
    `  ${kind}: Object.freeze({ apiVersion: ${JSON.stringify(apiVersion)}, plural: ${JSON.stringify(plural)}, shortNames: Object.freeze(${JSON.stringify(shortNames)}), namespaced: ${namespaced}, hasStatus: ${hasStatus} }),`,
  );
  return `// Generated by src/core/objects/generate.ts from kind-table.ts: do not edit.
export const KIND_NAMES = Object.freeze({
${rows.join('\n')}
});
`;
}

const HERE = dirname(fileURLToPath(import.meta.url));

/** Writes `content` to `file` unless it holds exactly that already (no needless writes). */
function writeIfChanged(file: string, content: string): boolean {
  let current: string | undefined;
  try {
    current = readFileSync(file, 'utf8');
  } catch {
    current = undefined;
  }
  if (current === content) return false;
  writeFileSync(file, content);
  return true;
}

/** Writes every module whose content changed; returns the files written. */
export function generateValidators(outDir = join(HERE, 'generated')): string[] {
  mkdirSync(outDir, { recursive: true });
  const names = join(outDir, 'kind-names.ts');
  const written = writeIfChanged(names, kindNamesSource()) ? [names] : [];
  return [...written, ...VALIDATOR_MODULES.map((m) => join(outDir, `${m.file}.ts`)).filter((file, i) => writeIfChanged(file, moduleSource(VALIDATOR_MODULES[i]!)))];
}

/**
 * After tsc: puts the minified code back into the compiled modules under `distDir` (tsc
 * re-prints what it emits, which doubles the size every process keeps in memory), and drops
 * their source maps, which would no longer match.
 */
export function finalizeCompiled(distDir: string): string[] {
  return VALIDATOR_MODULES.flatMap((m) => {
    const file = join(distDir, `${m.file}.js`);
    rmSync(`${file}.map`, { force: true });
    return writeIfChanged(file, moduleSource(m).replace('// @ts-nocheck\n', '')) ? [file] : [];
  });
}

/**
 * `node generate.mjs [outDir]`: what `npm run generate` runs after bundling;
 * `node generate.mjs --compiled <distDir>`: the build's step after tsc.
 */
function main(): void {
  const args = process.argv.slice(2);
  if (args[0] === '--compiled') {
    const dist = args[1] ?? join(process.cwd(), 'dist/src/core/objects/generated');
    const written = finalizeCompiled(dist);
    process.stdout.write(written.length ? `minified ${written.length} compiled validator module(s) in ${dist}\n` : '');
    return;
  }
  const outDir = args[0] ?? join(process.cwd(), 'src/core/objects/generated');
  const written = generateValidators(outDir);
  process.stdout.write(written.length ? `generated ${written.length} validator module(s) in ${outDir}\n` : '');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();
