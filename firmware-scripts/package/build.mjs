#!/usr/bin/env node
// `npm run package`: builds the release tarballs grove-VERSION-linux-ARCH.tar.gz (arm64, armv7,
// amd64) and SHA256SUMS into release/. Layout of each tarball:
//
//   grove-VERSION-linux-ARCH/
//     bin/grove          launcher (sh): checks Node >= 20, runs lib/grove.mjs
//     bin/grove-shim     static grove-shim for ARCH
//     lib/grove.mjs      the bundled CLI (esbuild); lazily imported parts are chunks beside it
//     lib/probe-net-main.js  network-probe entry the agent runs inside container namespaces
//     lib/package.json   name/version/type, so the bundle finds its version
//     lib/native/classic-level.node        LevelDB addon for ARCH
//     lib/node_modules/cbor-extract/       optional CBOR accelerator, where a prebuild exists
//     LICENSE README.md
//
// Usage: node firmware-scripts/package/build.mjs [--out DIR] [--targets linux-arm64,linux-amd64]
//        [--no-tar]  (stage directories only, for quick checks)
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundle } from './bundle.mjs';
import { TARGETS } from './targets.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '..', '..');

function parseArgs(argv) {
  const opts = { out: join(ROOT, 'release'), targets: Object.keys(TARGETS), tar: true };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--out') opts.out = resolve(argv[++i] ?? '');
    else if (arg === '--targets') opts.targets = (argv[++i] ?? '').split(',').filter(Boolean);
    else if (arg === '--no-tar') opts.tar = false;
    else throw new Error(`unknown argument ${arg}`);
  }
  for (const t of opts.targets) if (!TARGETS[t]) throw new Error(`unknown target ${t} (known: ${Object.keys(TARGETS).join(', ')})`);
  return opts;
}

function log(line) {
  process.stderr.write(`package: ${line}\n`);
}

/** Builds grove-shim for one target into DIR with that target's compiler, statically linked. */
function buildShim(target, buildDir) {
  const cc = target.compilers.find((c) => {
    try {
      execFileSync('sh', ['-c', `command -v ${c}`], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  });
  if (!cc) throw new Error(`no C compiler for ${target.name}: install one of ${target.compilers.join(', ')} (apt: ${target.apt})`);
  execFileSync('make', ['-s', '-C', join(ROOT, 'agent', 'shim'), `BUILD=${buildDir}`, `CC=${cc}`, 'STATIC=-static'], { stdio: 'inherit' });
  return { path: join(buildDir, 'grove-shim'), cc };
}

const LAUNCHER = `#!/bin/sh
# grove launcher: runs the bundled Grove CLI with the system's Node.js (>= 20).
# GROVE_NODE picks another node binary.
SELF=$(readlink -f "$0" 2>/dev/null || echo "$0")
DIR=$(cd "$(dirname "$SELF")" && pwd)
NODE=\${GROVE_NODE:-node}
if ! VERSION=$("$NODE" --version 2>/dev/null); then
  echo "grove: Node.js >= 20 is required, and '$NODE' was not found (apt-get install nodejs)" >&2
  exit 127
fi
MAJOR=\${VERSION#v}
MAJOR=\${MAJOR%%.*}
if [ "$MAJOR" -lt 20 ] 2>/dev/null || [ -z "$MAJOR" ]; then
  echo "grove: Node.js >= 20 is required, found $VERSION" >&2
  exit 1
fi
exec "$NODE" "$DIR/../lib/grove.mjs" "$@"
`;

// cbor-x requires 'cbor-extract' and falls back to pure JavaScript when that fails; this stub
// loads the one addon the package ships instead of searching for per-platform packages.
const CBOR_EXTRACT_INDEX = "module.exports = require('../../native/cbor-extract.node');\n";

function stageTarget(target, version, bundleDir, workDir) {
  const name = `grove-${version}-${target.name}`;
  const stage = join(workDir, name);
  rmSync(stage, { recursive: true, force: true });
  mkdirSync(join(stage, 'bin'), { recursive: true });
  execFileSync('cp', ['-r', bundleDir, join(stage, 'lib')]);
  writeFileSync(join(stage, 'lib', 'package.json'), `${JSON.stringify({ name: 'grove', version, type: 'module', private: true }, null, 2)}\n`);

  writeFileSync(join(stage, 'bin', 'grove'), LAUNCHER);
  chmodSync(join(stage, 'bin', 'grove'), 0o755);
  const shim = buildShim(target, join(workDir, `shim-${target.name}`));
  copyFileSync(shim.path, join(stage, 'bin', 'grove-shim'));
  chmodSync(join(stage, 'bin', 'grove-shim'), 0o755);

  mkdirSync(join(stage, 'lib', 'native'), { recursive: true });
  const level = join(ROOT, 'node_modules', 'classic-level', 'prebuilds', target.classicLevel);
  if (!existsSync(level)) throw new Error(`no LevelDB prebuild for ${target.name} at ${level}`);
  copyFileSync(level, join(stage, 'lib', 'native', 'classic-level.node'));
  const cbor = target.cborExtract && join(ROOT, 'node_modules', target.cborExtract);
  if (cbor && existsSync(cbor)) {
    copyFileSync(cbor, join(stage, 'lib', 'native', 'cbor-extract.node'));
    const dir = join(stage, 'lib', 'node_modules', 'cbor-extract');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'index.js'), CBOR_EXTRACT_INDEX);
    writeFileSync(join(dir, 'package.json'), '{ "name": "cbor-extract", "main": "index.js" }\n');
  }
  copyFileSync(join(HERE, 'LICENSE'), join(stage, 'LICENSE'));
  copyFileSync(join(ROOT, 'README.md'), join(stage, 'README.md'));
  return { name, stage, shimCompiler: shim.cc, cbor: Boolean(cbor && existsSync(cbor)) };
}

/** $SOURCE_DATE_EPOCH, else the last commit's time: the same checkout gives the same bytes. */
function sourceDateEpoch() {
  if (/^\d+$/.test(process.env.SOURCE_DATE_EPOCH ?? '')) return process.env.SOURCE_DATE_EPOCH;
  try {
    return execFileSync('git', ['-C', ROOT, 'log', '-1', '--format=%ct'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim() || '0';
  } catch {
    return '0';
  }
}

/** A reproducible tarball: sorted names, root-owned, one fixed mtime. */
function tarball(stage, name, outDir, epoch) {
  const file = join(outDir, `${name}.tar.gz`);
  execFileSync('tar', ['--sort=name', '--owner=0', '--group=0', '--numeric-owner', `--mtime=@${epoch}`, '-C', dirname(stage), '-czf', file, name]);
  return file;
}

function sha256(file) {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const version = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version;
  mkdirSync(opts.out, { recursive: true });
  const workDir = join(opts.out, '.stage');
  rmSync(workDir, { recursive: true, force: true });
  mkdirSync(workDir, { recursive: true });

  const bundleDir = join(workDir, 'bundle');
  const bundled = await bundle(ROOT, bundleDir);
  log(`bundle: ${bundled.files} files, ${(bundled.bytes / 1024).toFixed(0)} KiB`);

  const sums = [];
  const epoch = sourceDateEpoch();
  for (const t of opts.targets) {
    const staged = stageTarget(TARGETS[t], version, bundleDir, workDir);
    const shimSize = statSync(join(staged.stage, 'bin', 'grove-shim')).size;
    let summary = `${staged.name}: shim ${(shimSize / 1024).toFixed(0)} KiB (${staged.shimCompiler})${staged.cbor ? ', cbor-extract' : ''}`;
    if (opts.tar) {
      const file = tarball(staged.stage, staged.name, opts.out, epoch);
      sums.push(`${sha256(file)}  ${staged.name}.tar.gz`);
      summary += `, tarball ${(statSync(file).size / 1024 / 1024).toFixed(2)} MiB`;
    }
    log(summary);
  }
  if (opts.tar) {
    writeFileSync(join(opts.out, 'SHA256SUMS'), `${sums.join('\n')}\n`);
    rmSync(workDir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`package: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
