/**
 * What a module loads at start: the repository files reached from it by static relative imports
 * (`import type` excluded: it emits nothing; a dynamic import() runs later, on demand). Tests of
 * what a process keeps in memory from its start assert on it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { REPO_ROOT } from './grove-cli.js';

export const GENERATED = 'src/core/objects/generated/';

// `import {…} from './x.js'` and `export {…} from './x.js'`, not `import type`; side-effect imports too.
const IMPORT = /^\s*(?:import|export)\s+(?!type\s)(?:[^'";]*?\s+from\s+)?['"](\.{1,2}\/[^'"]+)['"]/gm;

function sourceOf(file: string): string {
  const ts = file.replace(/\.js$/, '.ts');
  return existsSync(ts) ? ts : file;
}

// The same, for packages: `from 'yaml'`, `from '@sinclair/typebox'` (not node: built-ins).
const PACKAGE_IMPORT = /^\s*(?:import|export)\s+(?!type\s)(?:[^'";]*?\s+from\s+)?['"]((?:@[\w.-]+\/)?[\w.-]+)(?:\/[^'"]*)?['"]/gm;

/** The packages the files reached from `entry` import statically. */
export function packageImports(entry: string): Set<string> {
  const packages = new Set<string>();
  for (const file of importClosure(entry)) {
    if (file.startsWith(GENERATED)) continue;
    for (const m of readFileSync(join(REPO_ROOT, file), 'utf8').matchAll(PACKAGE_IMPORT)) packages.add(m[1]!);
  }
  return packages;
}

/** Every repository file reached from `entry` by static relative imports, as repo-relative paths. */
export function importClosure(entry: string): Set<string> {
  const seen = new Set<string>();
  const todo = [resolve(REPO_ROOT, entry)];
  while (todo.length) {
    const file = sourceOf(todo.pop()!);
    const rel = relative(REPO_ROOT, file);
    if (seen.has(rel)) continue;
    seen.add(rel);
    // Generated modules are build output (gitignored until `npm run generate`): a leaf here.
    if (rel.startsWith(GENERATED)) continue;
    for (const m of readFileSync(file, 'utf8').matchAll(IMPORT)) todo.push(join(dirname(file), m[1]!));
  }
  return seen;
}
