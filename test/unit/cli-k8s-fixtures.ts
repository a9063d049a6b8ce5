/**
 * Objects as the server stores and serves them for the CLI's Kubernetes verbs: written as a user
 * applies them, defaulted by the kind's validator (as the apply endpoint does), then given the
 * server-owned metadata and the status the controllers and node reports write.
 */
import type { AnyObject } from '../../src/core/objects/changes.js';
import { validate, type KindName, type KindObject } from '../../src/core/objects/validate.js';

export const NOW = new Date('2026-03-01T12:00:00Z');

/** An ISO time `seconds` before NOW. */
export function ago(seconds: number): string {
  return new Date(NOW.getTime() - seconds * 1000).toISOString();
}

/** `value` validated (and defaulted) as `kind`, with uid, resourceVersion and creationTimestamp. */
export function stored<K extends KindName>(kind: K, value: Record<string, unknown>, createdSecondsAgo = 600): KindObject<K> {
  const result = validate(kind, value);
  if (!result.ok) throw new Error(`${kind} fixture invalid: ${JSON.stringify(result.errors)}`);
  const o = result.value as AnyObject;
  Object.assign(o.metadata, { uid: `uid-${o.metadata.name}`, resourceVersion: '42', creationTimestamp: ago(createdSecondsAgo) });
  return o as KindObject<K>;
}

const container = (name = 'web', image = 'nginx:1.27') => ({ name, image });

export function pod(name: string, status: Record<string, unknown> = {}, extra: { spec?: Record<string, unknown>; metadata?: Record<string, unknown> } = {}): KindObject<'Pod'> {
  return stored('Pod', {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', labels: { app: 'web' }, ...extra.metadata },
    spec: { containers: [container()], nodeName: 'pi-1', ...extra.spec },
    status,
  });
}

export function running(name: string, restartCount = 0, startedSecondsAgo = 300): Record<string, unknown> {
  return { name, ready: true, restartCount, image: 'nginx:1.27', imageID: '', state: { running: { startedAt: ago(startedSecondsAgo) } } };
}

export function deployment(name: string, replicas: number, status: Record<string, unknown>): KindObject<'Deployment'> {
  return stored('Deployment', {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: 'default' },
    spec: {
      replicas,
      selector: { matchLabels: { app: name, tier: 'front' } },
      template: { metadata: { labels: { app: name, tier: 'front' } }, spec: { containers: [container(), container('log', 'busybox:1.36')] } },
    },
    status,
  });
}

export function node(name: string, opts: { ready?: 'True' | 'False' | 'Unknown'; unschedulable?: boolean; labels?: Record<string, string> } = {}): KindObject<'Node'> {
  return stored(
    'Node',
    {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name, labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/arch': 'arm64', ...opts.labels } },
      spec: opts.unschedulable ? { unschedulable: true } : {},
      status: {
        ...(opts.ready ? { conditions: [{ type: 'Ready', status: opts.ready, reason: 'AgentReady', lastHeartbeatTime: ago(5), lastTransitionTime: ago(3600) }] } : {}),
        nodeInfo: { architecture: 'arm64', operatingSystem: 'linux', kernelVersion: '6.6.31-v8+', containerRuntimeVersion: 'crun://1.14', kubeletVersion: 'v0.2.0', osImage: 'Debian GNU/Linux 12 (bookworm)' },
        capacity: { cpu: '4', memory: '8Gi', pods: '110' },
        addresses: [{ type: 'InternalIP', address: '192.168.1.21' }, { type: 'Hostname', address: name }],
      },
    },
    86400 * 12,
  );
}
