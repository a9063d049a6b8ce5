import { describe, expect, it } from 'vitest';
import type { ContainerView } from '../../agent/src/runtime/container-manager.js';
import { psTable } from '../../src/cli/verbs/ctr/ps.js';

const NOW = new Date('2026-03-10T12:00:00Z');

function container(name: string, command: string[], id: string): ContainerView {
  return {
    id,
    name,
    image: 'docker.io/library/busybox:latest',
    imageDigest: `sha256:${'b'.repeat(64)}`,
    spec: {} as ContainerView['spec'],
    command,
    runtime: 'runc',
    cgroupsPath: '/grove/x',
    rootfsKind: 'overlay',
    createdAt: '2026-03-10T11:55:00Z',
    startedAt: '2026-03-10T11:55:00Z',
    state: 'running',
    exitCode: null,
    oomKilled: false,
  };
}

describe('grove ctr ps', () => {
  const views = [
    container('looper', ['sh', '-c', 'while true; do\n  date\n  sleep 5\ndone'], 'a'.repeat(64)),
    container('short', ['sleep', '3600'], 'c'.repeat(64)),
  ];

  it('one row per container, a multi-line command escaped and cut as docker does', () => {
    expect(psTable(views, NOW, false).split('\n')).toEqual([
      'CONTAINER ID   IMAGE            COMMAND                  CREATED         STATUS         NAMES',
      'aaaaaaaaaaaa   busybox:latest   "sh -c while true; d…"   5 minutes ago   Up 5 minutes   looper',
      'cccccccccccc   busybox:latest   "sleep 3600"             5 minutes ago   Up 5 minutes   short',
    ]);
  });

  it('--no-trunc: whole IDs and commands, still one line each', () => {
    const lines = psTable(views, NOW, true).split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[1]).toContain(`${'a'.repeat(64)}   busybox:latest   "sh -c while true; do\\n  date\\n  sleep 5\\ndone"`);
  });
});
