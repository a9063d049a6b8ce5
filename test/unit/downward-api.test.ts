import { mkdtemp, readFile, readlink, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryConfigSource } from '../../agent/src/agent/config-source.js';
import { resolveEnvBySource } from '../../agent/src/agent/volumes/config-env.js';
import { fieldValue, resourceValue, type DownwardContext } from '../../agent/src/agent/volumes/downward.js';
import { PodVolumes } from '../../agent/src/agent/volumes/pod-volumes.js';
import { envOf } from '../../agent/src/agent/plan/pod-fields.js';
import type { TmpfsMounter } from '../../agent/src/runtime/tmpfs.js';
import { collectConfigRefs } from '../../src/core/config-refs.js';
import { formatMap, readsAnnotations } from '../../src/core/downward-api.js';
import { silentLogger } from '../../src/core/logger.js';
import { pathText } from '../../src/core/objects/explain.js';
import { checkObject } from '../../src/core/objects/validate.js';
import { container, podTarget, type WirePodTarget } from '../support/pod-target.js';

function problems(spec: unknown): string[] {
  const r = checkObject('Pod', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec }, { showValues: true });
  return r.ok ? [] : r.problems.map((p) => `${pathText(p.path)}: ${p.reason}`);
}
const main = (extra: Record<string, unknown> = {}) => ({ name: 'main', image: 'busybox', ...extra });

describe('downward API schema', () => {
  it('accepts the fieldRefs and resourceFieldRefs Kubernetes allows in env', () => {
    const env = [
      'metadata.name', 'metadata.namespace', 'metadata.uid', "metadata.labels['app']", "metadata.annotations['example.com/x']",
      'spec.nodeName', 'spec.serviceAccountName', 'status.podIP', 'status.podIPs', 'status.hostIP', 'status.hostIPs',
    ].map((fieldPath, i) => ({ name: `V${i}`, valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath } } }));
    env.push({ name: 'CPU', valueFrom: { resourceFieldRef: { resource: 'limits.cpu', divisor: '1m' } } as never });
    expect(problems({ containers: [main({ env })] })).toEqual([]);
  });

  it('refuses what Kubernetes refuses, saying what is allowed', () => {
    expect(problems({ containers: [main({ env: [{ name: 'A', valueFrom: { fieldRef: { fieldPath: 'metadata.labels' } } }] })] })[0]).toMatch(
      /^spec\.containers\[0\]\.env\[0\]\.valueFrom\.fieldRef\.fieldPath: "metadata\.labels" must be one of metadata\.name/,
    );
    expect(problems({ containers: [main()], volumes: [{ name: 'd', downwardAPI: { items: [{ path: 'ip', fieldRef: { fieldPath: 'status.podIP' } }] } }] })[0]).toMatch(
      /fieldPath: "status.podIP" must be one of .*\(status and spec fields are for env only\)/,
    );
    expect(problems({ containers: [main({ env: [{ name: 'A', valueFrom: { resourceFieldRef: { resource: 'limits.ephemeral-storage' } } }] })] })[0]).toMatch(/ephemeral-storage and hugepages are not tracked/);
    // A volume file must name its container.
    expect(problems({ containers: [main()], volumes: [{ name: 'd', downwardAPI: { items: [{ path: 'cpu', resourceFieldRef: { resource: 'limits.cpu' } }] } }] })).toEqual([
      'spec.volumes[0].downwardAPI.items[0].resourceFieldRef.containerName: required',
    ]);
    expect(problems({ containers: [main()], volumes: [{ name: 't', projected: { sources: [{ serviceAccountToken: { path: 'token' } }] } }] })[0]).toMatch(
      /serviceAccountToken: pods get no Kubernetes API token from Grove/,
    );
  });

  it('accepts projected volumes of configMap, secret and downwardAPI sources, and the service account fields', () => {
    const spec = {
      serviceAccountName: 'builder',
      automountServiceAccountToken: false,
      containers: [main({ volumeMounts: [{ name: 'all', mountPath: '/etc/all' }] })],
      volumes: [
        {
          name: 'all',
          projected: {
            defaultMode: 0o440,
            sources: [
              { configMap: { name: 'settings', items: [{ key: 'a', path: 'a' }] } },
              { secret: { name: 'db', optional: true } },
              { downwardAPI: { items: [{ path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } }] } },
            ],
          },
        },
      ],
    };
    expect(problems(spec)).toEqual([]);
    expect(collectConfigRefs([spec as never])).toEqual([
      { kind: 'ConfigMap', name: 'settings' },
      { kind: 'Secret', name: 'db' },
    ]);
  });
});

describe('downward API values', () => {
  const pod = podTarget('web-1', {
    namespace: 'shop',
    labels: { app: 'web', tier: 'front' },
    annotations: { 'example.com/note': 'say "hi"\n' },
    containers: [container('main', { resources: { limits: { cpu: '500m', memory: '64Mi' } } }), container('side')],
    spec: { nodeName: 'pi-3' },
  });
  const ctx: DownwardContext = { pod, podIP: '10.42.0.7', node: { cpus: 4, memoryBytes: 2 * 1024 ** 3, hostIP: '192.168.1.10' } };

  it('reads the pod fields, the pod address and the node address', () => {
    expect(['metadata.name', 'metadata.namespace', 'metadata.uid', "metadata.labels['tier']", "metadata.labels['none']", 'spec.nodeName', 'spec.serviceAccountName', 'status.podIP', 'status.hostIP'].map((p) => fieldValue(ctx, p))).toEqual([
      'web-1', 'shop', 'uid-web-1', 'front', '', 'pi-3', 'default', '10.42.0.7', '192.168.1.10',
    ]);
    // On the host's network the pod's address is the node's.
    expect(fieldValue({ ...ctx, pod: { ...pod, spec: { ...pod.spec, hostNetwork: true } } }, 'status.podIP')).toBe('192.168.1.10');
  });

  it('writes whole label and annotation maps as Kubernetes does (sorted, Go-quoted)', () => {
    expect(fieldValue(ctx, 'metadata.labels')).toBe('app="web"\ntier="front"');
    expect(formatMap({ 'example.com/note': 'say "hi"\n' })).toBe('example.com/note="say \\"hi\\"\\n"');
  });

  it('divides limits and requests by the divisor, rounding up; unset limits are the node capacity', () => {
    const value = (resource: string, divisor?: string, containerName = 'main') => resourceValue(ctx, { resource: resource as never, containerName, ...(divisor ? { divisor } : {}) });
    expect(value('limits.cpu')).toBe('1');
    expect(value('limits.cpu', '1m')).toBe('500');
    expect(value('limits.memory', '1Mi')).toBe('64');
    expect(value('requests.memory')).toBe(String(64 * 1024 ** 2));
    expect(value('limits.cpu', undefined, 'side')).toBe('4');
    expect(value('limits.memory', '1Gi', 'side')).toBe('2');
    expect(value('requests.cpu', '1m', 'side')).toBe('0');
    expect(() => value('limits.cpu', undefined, 'nope')).toThrow(/no container "nope"/);
  });

  it('resolves env fieldRefs at creation, beside ConfigMap values', () => {
    const c = container('main', {
      env: [
        { name: 'POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
        { name: 'IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
        { name: 'MEM', valueFrom: { resourceFieldRef: { resource: 'limits.memory', divisor: '1Mi' } } },
        { name: 'URL', value: 'http://$(IP):80' },
      ],
    });
    const p = { ...pod, spec: { ...pod.spec, containers: [c] } };
    const r = resolveEnvBySource(envOf(c), undefined, new MemoryConfigSource(), 'shop', { context: { ...ctx, pod: p }, container: 'main' });
    expect(r.plain).toEqual(['POD=web-1', 'IP=10.42.0.7', `MEM=${2 * 1024}`, 'URL=http://10.42.0.7:80']);
  });

  it('tells the server which annotations to send', () => {
    expect(readsAnnotations(['metadata.name', "metadata.annotations['a/b']"])).toEqual(new Set(['a/b']));
    expect(readsAnnotations(["metadata.annotations['a']", 'metadata.annotations'])).toBe('all');
    expect(readsAnnotations(['metadata.labels'])).toBeUndefined();
  });
});

describe('downwardAPI and projected volumes on the node', () => {
  let dir = '';
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'grove-downward-unit-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const tmpfs: TmpfsMounter = { mount: async () => undefined, unmount: async () => undefined, resize: async () => undefined, isMounted: async () => false };
  const withLabels = (labels: Record<string, string>): WirePodTarget =>
    podTarget('p1', {
      labels,
      containers: [container('c', { volumeMounts: [{ name: 'info', mountPath: '/etc/podinfo' }, { name: 'all', mountPath: '/etc/all' }] })],
      spec: {
        volumes: [
          { name: 'info', downwardAPI: { items: [{ path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } }, { path: 'name', fieldRef: { fieldPath: 'metadata.name' }, mode: 0o600 }] } },
          { name: 'all', projected: { sources: [{ configMap: { name: 'settings' } }, { downwardAPI: { items: [{ path: 'ns', fieldRef: { fieldPath: 'metadata.namespace' } }] } }] } },
        ],
      },
    });

  it('writes the files, rewrites them when the labels change and writes nothing when nothing changed', async () => {
    const config = new MemoryConfigSource();
    config.set('ConfigMap', 'settings', { level: 'debug' });
    const volumes = new PodVolumes({ dataDir: dir, logger: silentLogger(), config, tmpfs, node: { cpus: 2, memoryBytes: 1 } });
    const first = withLabels({ app: 'a' });
    const mounts = await volumes.mountsFor(first, first.spec.containers[0]!);
    const info = mounts.find((m) => m.destination === '/etc/podinfo')!.source;
    const all = mounts.find((m) => m.destination === '/etc/all')!.source;
    expect(await readFile(join(info, 'labels'), 'utf8')).toBe('app="a"');
    expect((await stat(join(info, 'name'))).mode & 0o777).toBe(0o600);
    expect(await readFile(join(all, 'level'), 'utf8')).toBe('debug');
    expect(await readFile(join(all, 'ns'), 'utf8')).toBe('default');

    await volumes.refreshDownward([withLabels({ app: 'a' })]);
    const before = await readlink(join(info, '..data'));
    await volumes.refreshDownward([withLabels({ app: 'a' })]);
    expect(await readlink(join(info, '..data'))).toBe(before); // same labels: no new version written
    await volumes.refreshDownward([withLabels({ app: 'a', tier: 'b' })]);
    expect(await readFile(join(info, 'labels'), 'utf8')).toBe('app="a"\ntier="b"');
    expect(await readlink(join(info, '..data'))).not.toBe(before);
  });
});

describe('ConfigMap binaryData on the node', () => {
  it('is mounted as the bytes it holds, beside the text keys, and listed items find it', async () => {
    const { projectedFiles } = await import('../../agent/src/agent/volumes/projections.js');
    const bytes = Buffer.from([0, 1, 2, 254, 255]);
    const config = {
      get: () => ({ kind: 'ConfigMap' as const, name: 'fw', version: '3', data: { 'a.txt': 'text' }, binaryData: { 'fw.bin': bytes.toString('base64') } }),
      onChange: () => () => undefined,
    };
    const all = projectedFiles({ kind: 'ConfigMap', name: 'fw', namespace: 'default' }, config);
    expect(all.files.map((f) => [f.path, Buffer.from(f.content)])).toEqual([
      ['a.txt', Buffer.from('text')],
      ['fw.bin', bytes],
    ]);
    const one = projectedFiles({ kind: 'ConfigMap', name: 'fw', namespace: 'default', items: [{ key: 'fw.bin', path: 'firmware/image' }] }, config);
    expect(Buffer.from(one.files[0]!.content)).toEqual(bytes);
  });
});
