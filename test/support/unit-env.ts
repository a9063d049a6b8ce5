/**
 * The environment the systemd unit written by firmware-scripts/install.sh starts Grove with
 * (its UNIT_ENVIRONMENT line): benches start the daemons they measure with it, so that a figure
 * is the installed daemon's.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './grove-cli.js';

export function parseUnitEnvironment(script: string): Record<string, string> {
  const line = /^UNIT_ENVIRONMENT="([^"]*)"$/m.exec(script);
  if (!line) throw new Error('install.sh has no UNIT_ENVIRONMENT="…" line');
  const env: Record<string, string> = {};
  for (const pair of line[1]!.split(/\s+/).filter(Boolean)) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new Error(`install.sh UNIT_ENVIRONMENT: ${JSON.stringify(pair)} is not KEY=VALUE`);
    env[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return env;
}

export function unitEnvironment(): Record<string, string> {
  return parseUnitEnvironment(readFileSync(join(REPO_ROOT, 'firmware-scripts', 'install.sh'), 'utf8'));
}
