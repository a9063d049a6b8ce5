/** Builders shared by the server tests (not a test file itself). */
import type { App, AppKind, ContainerTemplate, NodeRecord, PodAssignment, UpdateStrategy } from '../../src/core/resolved-pod.js';
import type { NodeView } from '../../src/server/scheduler.js';
import type { NodeStatus, PodStatus, Presence } from '../../src/core/wire-types.js';
import { encodeMessage } from '../../src/core/wire.js';
import { ManualClock } from '../support/manual-clock.js';

export interface AppOptions {
  kind?: AppKind;
  replicas?: number;
  nodeSelector?: Record<string, string>;
  image?: string;
  memory?: number;
  request?: number;
  annotations?: Record<string, string>;
  version?: string;
  strategy?: UpdateStrategy;
}

export function app(name: string, o: AppOptions = {}): App {
  const container: ContainerTemplate = {
    name: 'main',
    image: o.image ?? 'docker.io/library/nginx:1.27',
    env: [{ name: 'VERSION', value: o.version ?? '1' }],
    resources: {
      ...(o.memory !== undefined ? { memoryBytes: o.memory } : {}),
      ...(o.request !== undefined ? { requestMemoryBytes: o.request } : {}),
    },
  };
  return {
    kind: 'App',
    meta: { name, labels: {}, annotations: {} },
    spec: {
      kind: o.kind ?? 'Deployment',
      ...((o.kind ?? 'Deployment') === 'Deployment' ? { replicas: o.replicas ?? 1 } : {}),
      ...(o.strategy ? { strategy: o.strategy } : {}),
      template: {
        labels: { app: name },
        annotations: o.annotations ?? {},
        nodeSelector: o.nodeSelector ?? {},
        restartPolicy: 'Always',
        hostNetwork: false,
        containers: [container],
      },
    },
  };
}

export function node(name: string, o: Partial<Omit<NodeView, 'name'>> = {}): NodeView {
  return { name, labels: o.labels ?? {}, cordoned: o.cordoned ?? false, ready: o.ready ?? true, ...(o.notReadySince ? { notReadySince: o.notReadySince } : {}), ...(o.facts ? { facts: o.facts } : {}) };
}

export function pod(name: string, appName: string, nodeName: string, hash: string, createdAt = '2025-01-01T00:00:00.000Z'): PodAssignment {
  return { kind: 'Pod', meta: { name, labels: { app: appName }, annotations: {}, createdAt }, app: appName, node: nodeName, templateHash: hash };
}

/** Deterministic suffixes: s0001, s0002, … */
export function suffixes(): () => string {
  let n = 0;
  return () => `s${String(++n).padStart(4, '0')}`;
}

/** A fake template hash: "h" + the VERSION env var padded, so tests can read it. */
export function fakeHash(a: App): string {
  const v = a.spec.template.containers[0]?.env.find((e) => e.name === 'VERSION')?.value ?? '0';
  return `hash${v}`.padEnd(16, '0');
}


/** A clock the test moves by hand. */
/** The server tests' clock: a ManualClock starting at 2025-05-01T00:00:00Z unless told otherwise. */
export function fixtureClock(start = Date.parse('2025-05-01T00:00:00Z')): ManualClock {
  return new ManualClock(start);
}

export function nodeRecord(name: string, labels: Record<string, string> = {}): NodeRecord {
  return { kind: 'Node', meta: { name, labels, annotations: {} }, cordoned: false, credentialHash: '0'.repeat(64), joinedAt: '2025-01-01T00:00:00.000Z' };
}

export function nodeStatus(node: string, o: { seq?: number; runId?: string; pods?: PodStatus[]; arch?: string; labels?: Record<string, string>; observedRevision?: number; sentAt?: string; memoryAvailableBytes?: number } = {}): NodeStatus {
  return {
    schema: 1,
    node,
    ...(o.runId !== undefined ? { runId: o.runId } : {}),
    seq: o.seq ?? 1,
    observedRevision: o.observedRevision ?? 0,
    heartbeat: false,
    facts: {
      arch: o.arch ?? 'arm64',
      os: 'linux',
      cpus: 4,
      memoryBytes: 1024 ** 3,
      memoryAvailableBytes: o.memoryAvailableBytes ?? 512 * 1024 ** 2,
      diskFreeBytes: 10 * 1024 ** 3,
      kernel: '6.6.0',
      ociRuntime: 'crun',
      cgroupVersion: 2,
      agentVersion: '0.1.0',
      labels: o.labels ?? {},
    },
    pods: o.pods ?? [],
    sentAt: o.sentAt ?? '2025-05-01T00:00:00.000Z',
  };
}

export function encStatus(s: NodeStatus): Buffer {
  return encodeMessage(s);
}

export function encPresence(node: string, online: boolean): Buffer {
  const p: Presence = { schema: 1, node, online, at: '2025-05-01T00:00:00.000Z' };
  return encodeMessage(p);
}
