import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The directory holding Grove's package.json, found by walking up from this module, so the
 * same code works from src/ under vitest and from dist/ after a build.
 */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        if ((JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'grove') return dir;
      } catch {
        // not ours; keep walking
      }
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot find the grove package root');
    dir = parent;
  }
}

export function packageVersion(): string {
  return (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}

/**
 * grove-shim: the configured one (--shim, $GROVE_SHIM), else the one built beside the package
 * (a checkout), else the one a release package ships in bin/ next to lib/ (see
 * firmware-scripts/package/).
 */
export function shimPath(configured?: string): string {
  if (configured) return configured;
  const root = packageRoot();
  const built = join(root, 'agent', 'shim', 'build', 'grove-shim');
  const released = join(root, '..', 'bin', 'grove-shim');
  return !existsSync(built) && existsSync(released) ? released : built;
}
