// Bundles the Grove CLI (src/cli/grove.ts) and the agent's network-probe entry with esbuild.
// Code splitting keeps the CLI's lazy `await import()`s lazy: `grove --version` or a client verb
// loads only the entry and the chunks it needs, never the server or agent.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as esbuild from 'esbuild';

// Every output file is an ES module; CommonJS dependencies inside it still call require() for
// Node built-ins and for the external cbor-extract, and classic-level's binding needs the
// bundle's own directory.
const BANNER = [
  "import { createRequire as __groveCreateRequire } from 'node:module';",
  "import { dirname as __groveDirname } from 'node:path';",
  "import { fileURLToPath as __groveFileURLToPath } from 'node:url';",
  'const require = __groveCreateRequire(import.meta.url);',
  'const __groveLibDir = __groveDirname(__groveFileURLToPath(import.meta.url));',
].join(' ');

/** classic-level loads its addon with node-gyp-build from prebuilds/; the package ships one in lib/native/. */
const classicLevelBinding = {
  name: 'classic-level-binding',
  setup(build) {
    build.onResolve({ filter: /^\.\/binding(\.js)?$/ }, (args) =>
      /classic-level/.test(args.importer) ? { path: 'classic-level', namespace: 'grove-native' } : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'grove-native' }, () => ({
      contents: "module.exports = require(require('node:path').join(__groveLibDir, 'native', 'classic-level.node'));",
      loader: 'js',
    }));
  },
};

const COMMON = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  minify: true,
  legalComments: 'none',
  banner: { js: BANNER },
  logLevel: 'warning',
};

/** Writes the bundle into outDir; returns its file count and size. */
export async function bundle(root, outDir) {
  await esbuild.build({
    ...COMMON,
    absWorkingDir: root,
    entryPoints: { grove: 'src/cli/grove.ts' },
    outdir: outDir,
    splitting: true,
    chunkNames: 'chunk-[hash]',
    outExtension: { '.js': '.mjs' },
    // cbor-extract is optional native acceleration for cbor-x; the package ships it (or not) per arch.
    external: ['cbor-extract'],
    plugins: [classicLevelBinding],
  });
  // ContainerManagerRuntime runs this file by path (new URL('./probe-net-main.js', import.meta.url)).
  await esbuild.build({
    ...COMMON,
    absWorkingDir: root,
    entryPoints: ['agent/src/agent/probe-net-main.ts'],
    outfile: join(outDir, 'probe-net-main.js'),
  });
  const files = readdirSync(outDir);
  return { files: files.length, bytes: files.reduce((sum, f) => sum + statSync(join(outDir, f)).size, 0) };
}
