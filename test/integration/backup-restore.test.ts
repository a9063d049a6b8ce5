/**
 * `grove server backup` / `grove server restore` against a real server process: a backup taken
 * while apps are applied in a loop is one consistent snapshot, and restoring it (server
 * stopped) brings back exactly what it holds.
 */
import { readFile, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeBackup, encodeBackup, type Backup } from '../../src/store/backup.js';
import { TERM_AWARE, TestCluster } from '../support/cluster.js';
import { eventually } from '../support/grove-cli.js';
import { startOneNodeCluster, type OneNodeCluster } from '../support/one-node.js';
import { describeWith } from '../support/prereq.js';
import type { TestRegistry } from '../support/registry.js';

interface ClientJson {
  apiUrl: string;
  token: string;
}

interface DeploymentJson {
  metadata: { name: string; annotations: Record<string, string> };
  spec: { replicas: number };
}

/** One apply = one store commit: the Deployment and its ConfigMap carry the same round. */
function resources(i: number, round: number): unknown {
  const labels = { app: `app-${i}` };
  return {
    objects: [
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: `app-${i}`, annotations: { round: String(round) } },
        spec: { replicas: (round % 3) + 1, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [{ name: 'main', image: 'busybox:1.36' }] } } },
      },
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `app-${i}-conf` }, data: { round: String(round) } },
    ],
  };
}

describe('server backup and restore', () => {
  let cluster: TestCluster;
  let client: ClientJson;

  async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(new URL(path, client.apiUrl), {
      method,
      headers: { authorization: `Bearer ${client.token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  }

  async function backupTo(name: string): Promise<{ file: string; backup: Backup }> {
    const file = join(cluster.serverDir, name);
    const r = await cluster.grove(['server', 'backup', file]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^backup written to .*: cluster default, revision \d+/);
    return { file, backup: decodeBackup(await readFile(file)) };
  }

  /** Deployment name → round, from a backup and from the running server. */
  function appsIn(backup: Backup): Map<string, string> {
    const apps = backup.entries.filter((e) => e.key.startsWith('deployments/default/')).map((e) => e.value as DeploymentJson);
    return new Map(apps.map((a) => [a.metadata.name, a.metadata.annotations.round!]));
  }
  async function appsOnServer(): Promise<Map<string, string>> {
    const apps = await api<{ items: DeploymentJson[] }>('GET', '/apis/apps/v1/namespaces/default/deployments');
    return new Map(apps.items.map((a) => [a.metadata.name, a.metadata.annotations.round!]));
  }
  /**
   * What users applied, entry by entry (key and value): the objects of the applied kinds without
   * their status, which the controllers write again after a restart.
   */
  function appliedIn(b: Backup): unknown[] {
    return b.entries
      .filter((e) => /^(deployments|daemonsets|jobs|cronjobs|configmaps|secrets)\//.test(e.key))
      .map((e) => {
        const { status: _status, ...applied } = e.value as Record<string, unknown>;
        return [e.key, applied];
      });
  }

  beforeAll(async () => {
    cluster = await TestCluster.create();
    await cluster.startServer();
    client = JSON.parse(await readFile(join(cluster.serverDir, 'client.json'), 'utf8')) as ClientJson;
  }, 60_000);
  afterAll(async () => {
    await cluster?.destroy();
  });

  it('takes consistent backups during applies and restores exactly an older one', async () => {
    let round = 0;
    let stop = false;
    // Creates app-0, app-1, … and keeps re-applying earlier ones with a new round.
    const writer = (async () => {
      while (!stop) {
        round++;
        await api('POST', '/v1/apply', resources(round % 7 === 0 ? round % 5 : round, round));
      }
    })();
    try {
      while (round < 15) await new Promise((r) => setTimeout(r, 20));
      const early = await backupTo('early.backup');
      const later = await backupTo('later.backup');
      const roundAtLater = round;
      const unwritable = await cluster.grove(['server', 'backup', join(cluster.serverDir, 'missing-dir', 'x.backup')]);
      expect(unwritable.code).not.toBe(0);
      expect(unwritable.stderr).toMatch(/^grove: cannot write .*missing-dir\/x\.backup: ENOENT/);
      while (round < roundAtLater + 10) await new Promise((r) => setTimeout(r, 20));
      stop = true;
      await writer;

      for (const { backup } of [early, later]) {
        // Every app is complete: its config map was written in the same commit.
        const apps = appsIn(backup);
        expect(apps.size).toBeGreaterThan(0);
        for (const [name, appRound] of apps) {
          const conf = backup.entries.find((e) => e.key === `configmaps/default/${name}-conf`);
          expect((conf?.value as { data: Record<string, string> } | undefined)?.data.round, name).toBe(appRound);
        }
        expect(backup.entries.filter((e) => e.key.startsWith('configmaps/default/'))).toHaveLength(apps.size);
        expect(Math.max(...backup.entries.map((e) => e.revision))).toBeLessThanOrEqual(backup.header.revision);
      }
      expect(later.backup.header.revision).toBeGreaterThan(early.backup.header.revision);

      const final = await appsOnServer();
      const expected = appsIn(early.backup);
      expect(final.size).toBeGreaterThan(expected.size);

      // The store is locked while the server runs: restore refuses and changes nothing.
      const refused = await cluster.grove(['server', 'restore', early.file]);
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toMatch(/in use: stop grove server before restoring/);

      await cluster.killServer('SIGTERM');

      // A damaged file is refused before the store is touched.
      const damaged = join(cluster.serverDir, 'damaged.backup');
      const bytes = await readFile(early.file);
      await writeFile(damaged, bytes);
      await truncate(damaged, bytes.length - 10);
      const bad = await cluster.grove(['server', 'restore', damaged]);
      expect(bad.code).not.toBe(0);
      expect(bad.stderr).toMatch(/not a valid Grove backup/);

      // A backup of another cluster needs --force.
      const foreign = join(cluster.serverDir, 'foreign.backup');
      await writeFile(foreign, encodeBackup({ revision: 1, entries: [{ key: 'cluster', value: { name: 'other' }, revision: 1 }] }, { cluster: 'other', createdAt: new Date() }));
      const refusedForeign = await cluster.grove(['server', 'restore', foreign]);
      expect(refusedForeign.code).not.toBe(0);
      expect(refusedForeign.stderr).toMatch(/backup of cluster "other" but .* belongs to cluster "default" \(--force/);

      const restored = await cluster.grove(['server', 'restore', early.file]);
      expect(restored.stderr).toBe('');
      expect(restored.code).toBe(0);
      const newRevision = Number(/store revision is now (\d+)/.exec(restored.stdout)?.[1]);
      expect(newRevision).toBeGreaterThan(later.backup.header.revision);

      await cluster.startServer();
      // Exactly the older snapshot's apps, at their rounds; later apps are gone.
      expect(await appsOnServer()).toEqual(expected);
      const confs = await api<{ items: { metadata: { name: string } }[] }>('GET', '/api/v1/namespaces/default/configmaps');
      expect(confs.items.map((c) => c.metadata.name).sort()).toEqual([...expected.keys()].map((n) => `${n}-conf`).sort());

      // And a fresh backup of the restored server holds what the file's users applied, as it was.
      const again = await backupTo('again.backup');
      expect(appliedIn(again.backup)).toEqual(appliedIn(early.backup));
      expect(appliedIn(early.backup).length).toBe(2 * expected.size);
      // Nothing of a later app survives: no ReplicaSet or Pod of one either.
      const laterApps = [...final.keys()].filter((n) => !expected.has(n));
      expect(laterApps.length).toBeGreaterThan(0);
      const leftovers = again.backup.entries.filter((e) => laterApps.some((n) => new RegExp(`^[a-z]+/default/${n}(-|$)`).test(e.key)));
      expect(leftovers.map((e) => e.key)).toEqual([]);
    } finally {
      stop = true;
      await writer.catch(() => undefined);
    }
  }, 180_000);
});

/**
 * With a real agent: the node follows a restore of an older backup. The app created after the
 * backup stops, the one in it keeps running untouched, although the agent had applied newer
 * targets than the backup's.
 */
describeWith(['root', 'runc', 'registry', 'shim'], 'server restore with a running agent', () => {
  let registry: TestRegistry;
  let cluster: TestCluster;
  let scratch: string;

  const apply = async (name: string) => {
    const file = join(scratch, `${name}.yaml`);
    await writeFile(
      file,
      [
        'apiVersion: apps/v1',
        'kind: Deployment',
        `metadata: { name: ${name} }`,
        'spec:',
        '  replicas: 1',
        `  selector: { matchLabels: { app: ${name} } }`,
        '  template:',
        `    metadata: { labels: { app: ${name} } }`,
        '    spec:',
        '      containers:',
        `        - { name: main, image: "${registry.host}/test/busybox:1", command: ${TERM_AWARE} }`,
        '',
      ].join('\n'),
    );
    const r = await cluster.grove(['apply', '-f', file]);
    expect(r.code, r.stderr).toBe(0);
  };

  let env: OneNodeCluster | undefined;

  beforeAll(async () => {
    env = await startOneNodeCluster('grove-restore-manifests-', 'node-a');
    ({ registry, cluster, scratch } = env);
  }, 120_000);
  afterAll(async () => {
    await env?.destroy();
  });

  it('stops what was created after the backup and keeps the rest running', async () => {
    await apply('keep');
    const [keepPod] = await cluster.waitForRunning('keep', 1);
    const file = join(scratch, 'cluster.backup');
    expect((await cluster.grove(['server', 'backup', file])).code).toBe(0);
    await apply('later');
    await cluster.waitForRunning('later', 1);
    const before = await cluster.runningContainers('node-a');
    expect(before).toHaveLength(2);

    await cluster.killServer('SIGTERM');
    const restored = await cluster.grove(['server', 'restore', file]);
    expect(restored.code, restored.stderr).toBe(0);
    await cluster.startServer();

    await eventually(async () => (await cluster.runningContainers('node-a')).length === 1, 90_000, 'the later app stopped');
    const after = await cluster.runningContainers('node-a');
    // The same container as before the restore: not restarted.
    expect(before.find((c) => c.id === after[0]!.id)).toEqual(after[0]);
    const pods = await cluster.pods();
    expect(pods.map((p) => p.name)).toEqual([keepPod!.name]);
  }, 240_000);
});
