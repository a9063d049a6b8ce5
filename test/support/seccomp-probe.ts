/**
 * Test-only: the seccomp probe (test/fixtures/seccomp/probe.c) compiled static with musl-gcc
 * and put into a busybox test image at /bin/probe, and its "name=result" output parsed.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildBusyboxImage, type BuiltImage } from './image-builder.js';
import { REPO_ROOT } from './grove-cli.js';

/** What the probe tries, in the order it prints them. */
export const PROBE_ATTEMPTS = ['unshare_user', 'keyctl', 'add_key', 'io_uring_setup', 'mount_tmpfs', 'mount_in_userns', 'netfilter_socket'] as const;
export type ProbeResults = Record<(typeof PROBE_ATTEMPTS)[number] | 'seccomp_mode', string>;

/** Compiles the probe into `dir`; returns the binary's path. */
export function compileProbe(dir: string): string {
  const out = join(dir, 'probe');
  execFileSync('musl-gcc', ['-static', '-O2', '-Wall', '-Werror', '-o', out, join(REPO_ROOT, 'test/fixtures/seccomp/probe.c')], { stdio: 'pipe' });
  return out;
}

/** busybox with /bin/probe and a page for httpd at /www/index.html. */
export function buildProbeImage(probe: string): Promise<BuiltImage> {
  return buildBusyboxImage({
    layers: [[
      { name: 'bin/', type: 'directory' },
      { name: 'bin/probe', content: readFileSync(probe), mode: 0o755 },
      { name: 'www/', type: 'directory' },
      { name: 'www/index.html', content: 'hello from grove\n' },
    ]],
  });
}

/** The probe's lines as a record; throws when one is missing (a crashed or filtered probe). */
export function parseProbe(stdout: string): ProbeResults {
  const out: Record<string, string> = {};
  for (const line of stdout.split('\n')) {
    const m = /^([a-z_]+)=(\S+)$/.exec(line.trim());
    if (m) out[m[1]!] = m[2]!;
  }
  for (const key of [...PROBE_ATTEMPTS, 'seccomp_mode']) if (!(key in out)) throw new Error(`probe printed no ${key}:\n${stdout}`);
  return out as ProbeResults;
}

/** Every attempt with the same result (EPERM under the default profile, ok when privileged). */
export function allAttempts(result: string): Record<(typeof PROBE_ATTEMPTS)[number], string> {
  return Object.fromEntries(PROBE_ATTEMPTS.map((a) => [a, result])) as Record<(typeof PROBE_ATTEMPTS)[number], string>;
}
