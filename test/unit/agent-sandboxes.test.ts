import { describe, expect, it } from 'vitest';
import { ManualClock } from '../support/manual-clock.js';
import { MemoryRuntime } from '../../agent/src/agent/memory-runtime.js';
import type { ManagedContainer, PodSandbox } from '../../agent/src/agent/node-runtime.js';
import { renderPodHosts } from '../../agent/src/agent/pod-hosts.js';
import { Reconciler, type StatusReport } from '../../agent/src/agent/reconciler.js';
import { planSandboxes } from '../../agent/src/agent/plan/sandboxes.js';
import { checkHostPortsFree as checkRequest, sandboxNetworkKey as requestKey } from '../../agent/src/runtime/sandbox-model.js';
import { sandboxRequestOf } from '../../agent/src/agent/plan/pod-fields.js';
import { ErrorCode, GroveError } from '../../src/core/errors.js';
import { silentLogger } from '../../src/core/logger.js';
import type { ContainerPort } from '../../src/core/model.js';
import { container as podContainer, podTarget, type PodDesc, type WirePodTarget } from '../support/pod-target.js';

function pod(name: string, d: PodDesc = {}, ports?: ContainerPort[]): WirePodTarget {
  return podTarget(name, { containers: [podContainer('main', { image: 'reg.lan/app:1', ...(ports ? { ports } : {}) })], ...d });
}

const sandboxNetworkKey = (p: WirePodTarget): string => requestKey(sandboxRequestOf(p));
const checkHostPortsFree = (p: WirePodTarget, sandboxes: PodSandbox[]): void => checkRequest(sandboxRequestOf(p), sandboxes);

function sandbox(p: WirePodTarget, over: Partial<PodSandbox> = {}): PodSandbox {
  const req = sandboxRequestOf(p);
  return { pod: req.pod, app: req.app, networkKey: requestKey(req), hostNetwork: req.hostNetwork, ports: [], ready: true, createdAt: '2026-01-01T00:00:00.000Z', ...over };
}

function container(podName: string, state: ManagedContainer['state']): ManagedContainer {
  return {
    id: `${podName}-id`,
    name: `${podName}_main`,
    labels: { 'grove.managed': 'agent', 'grove.pod': podName, 'grove.app': 'x', 'grove.container': 'main', 'grove.template-hash': 'h1' },
    image: 'reg.lan/app:1',
    state,
    exitCode: state === 'exited' ? 0 : null,
    oomKilled: false,
    createdAt: '2026-01-01T00:00:00.000Z',
  };
}

const web80 = [{ containerPort: 80, hostPort: 8080, protocol: 'TCP' as const }];

describe('sandbox planner', () => {
  it('creates a sandbox for every desired pod (init containers join it: it is keyed by pod)', () => {
    const a = pod('web-a');
    const b = pod('db-a', { inits: [podContainer('init', { image: 'i' })] });
    expect(planSandboxes([], [], [a, b])).toEqual([{ type: 'create-sandbox', pod: a }, { type: 'create-sandbox', pod: b }]);
    expect(planSandboxes([sandbox(a), sandbox(b)], [], [a, b])).toEqual([]);
  });

  it('removes a sandbox of a pod no longer desired once none of its containers runs', () => {
    const a = pod('web-a');
    expect(planSandboxes([sandbox(a)], [container('web-a', 'running')], [])).toEqual([]);
    expect(planSandboxes([sandbox(a)], [container('web-a', 'exited')], [])).toEqual([{ type: 'remove-sandbox', pod: 'web-a', reason: 'not-desired' }]);
    expect(planSandboxes([sandbox(a)], [], [])).toEqual([{ type: 'remove-sandbox', pod: 'web-a', reason: 'not-desired' }]);
  });

  it('recreates when hostNetwork or hostPorts change, or the sandbox broke, once its containers stopped', () => {
    const before = pod('web-a');
    const after = pod('web-a', {}, web80);
    expect(sandboxNetworkKey(after)).toBe('bridge 8080:80/tcp');
    expect(sandboxNetworkKey(pod('web-a', { hostNetwork: true }, web80))).toBe('host');
    // A declared port without hostPort changes nothing.
    expect(sandboxNetworkKey(pod('web-a', {}, [{ containerPort: 80, protocol: 'TCP' }]))).toBe('bridge');
    expect(planSandboxes([sandbox(before)], [container('web-a', 'running')], [after])).toEqual([]);
    expect(planSandboxes([sandbox(before)], [], [after])).toEqual([{ type: 'recreate-sandbox', pod: after, reason: 'network-changed' }]);
    expect(planSandboxes([sandbox(after, { ready: false })], [container('web-a', 'exited')], [after])).toEqual([{ type: 'recreate-sandbox', pod: after, reason: 'broken' }]);
  });

  it('orders removals, recreations, creations and honours the backoff', () => {
    const gone = pod('old-a');
    const broken = pod('web-a');
    const fresh = pod('new-a');
    const steps = planSandboxes([sandbox(broken, { ready: false }), sandbox(gone)], [], [fresh, broken]);
    expect(steps.map((s) => `${s.type} ${typeof s.pod === 'string' ? s.pod : s.pod.name}`)).toEqual(['remove-sandbox old-a', 'recreate-sandbox web-a', 'create-sandbox new-a']);
    expect(planSandboxes([], [], [fresh], { held: (pod) => pod === 'new-a' })).toEqual([]);
  });

  it("waits for a leaving pod's sandbox before creating one that takes over its hostPort", () => {
    const old = sandbox(pod('web-a', {}, web80), { ports: [{ hostPort: 8080, protocol: 'tcp' }] });
    const next = pod('web-b', {}, web80);
    expect(planSandboxes([old], [container('web-a', 'running')], [next])).toEqual([]);
    // Its removal planned in the same round: the creation follows it, and needs it to succeed.
    expect(planSandboxes([old], [], [next])).toEqual([
      { type: 'remove-sandbox', pod: 'web-a', reason: 'not-desired' },
      { type: 'create-sandbox', pod: next, needs: [{ kind: 'sandbox', pod: 'web-a' }] },
    ]);
    // The leaving sandbox's removal backs off: the creation waits for a later round.
    expect(planSandboxes([old], [], [next], { held: (pod) => pod === 'web-a' })).toEqual([]);
    expect(planSandboxes([], [], [next])).toEqual([{ type: 'create-sandbox', pod: next }]);
  });

  it('refuses a hostPort another pod of the node holds, naming that pod', () => {
    const first = sandbox(pod('web-a', {}, web80), { ports: [{ hostPort: 8080, protocol: 'tcp' }] });
    expect(() => checkHostPortsFree(pod('api-b', {}, web80), [first])).toThrow('hostPort 8080/TCP is already used by pod web-a (app web) on this node');
    expect(() => checkHostPortsFree(pod('api-b', {}, [{ containerPort: 80, hostPort: 8080, protocol: 'UDP' }]), [first])).not.toThrow();
    const bound = sandbox(pod('web-a'), { ports: [{ hostPort: 8080, protocol: 'tcp', hostIP: '127.0.0.1' }] });
    expect(() => checkHostPortsFree(pod('api-b', {}, [{ containerPort: 80, hostPort: 8080, hostIP: '192.168.1.5', protocol: 'TCP' }]), [bound])).not.toThrow();
    expect(() => checkHostPortsFree(pod('api-b', {}, web80), [bound])).toThrow('already used by pod web-a');
  });
});

describe('pod /etc/hosts', () => {
  it("names the pod, its node's apps by name, and host-network apps by the node's address", () => {
    const web = sandbox(pod('web-a'), { ip: '10.42.0.2', gateway: '10.42.0.1' });
    const web2 = sandbox(pod('web-b'), { ip: '10.42.0.4', gateway: '10.42.0.1' });
    const db = sandbox(pod('db-a'), { ip: '10.42.0.3', gateway: '10.42.0.1' });
    const mqtt = sandbox(pod('mqtt-a', { hostNetwork: true }));
    const half = sandbox(pod('cache-a'), { ip: '10.42.0.9', ready: false });
    const files = renderPodHosts([web, web2, db, mqtt, half]);
    expect(files.get('web-a')).toBe(
      '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n10.42.0.2\tweb-a\n10.42.0.3\tdb\n10.42.0.1\tmqtt\n10.42.0.2\tweb\n',
    );
    // Its own app resolves to itself; another pod of the app sees the first one by name... its own.
    expect(files.get('web-b')).toContain('10.42.0.4\tweb\n');
    expect(files.get('mqtt-a')).toBe('127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.1.1\tmqtt-a\n10.42.0.3\tdb\n127.0.0.1\tmqtt\n10.42.0.2\tweb\n');
    expect(files.has('cache-a')).toBe(false);
  });
});

describe('reconciler with pod sandboxes (MemoryRuntime)', () => {
  function setup() {
    const clock = new ManualClock();
    const runtime = new MemoryRuntime({ now: () => clock.now() });
    const reports: StatusReport[] = [];
    const reconciler = new Reconciler({ runtime, clock, logger: silentLogger(), pollSeconds: 5, onStatus: (r) => reports.push(r) });
    return { clock, runtime, reconciler, reports };
  }

  it('creates the sandbox before the containers, writes hosts, and removes it after the containers', async () => {
    const { runtime, reconciler } = setup();
    await reconciler.setTarget({ revision: 1, pods: [pod('web-a'), pod('db-a')] });
    expect(runtime.sandboxes.calls).toEqual(['create web-a', 'create db-a']);
    expect((await runtime.list()).map((c) => c.name)).toEqual(['web-a_main', 'db-a_main']);
    expect(runtime.sandboxes.hosts.get('web-a')).toContain('\tdb\n');
    await reconciler.setTarget({ revision: 2, pods: [pod('web-a')] });
    // The container goes this round; its sandbox once nothing of the pod runs.
    await reconciler.trigger('manual');
    expect(runtime.sandboxes.calls).toEqual(['create web-a', 'create db-a', 'remove db-a']);
    expect(runtime.sandboxes.hosts.get('web-a')).not.toContain('\tdb\n');
  });

  it('shows a failed sandbox as CreateError on the containers, backs off, then starts them', async () => {
    const { clock, runtime, reconciler, reports } = setup();
    runtime.sandboxes.failNextCreate(new GroveError(ErrorCode.RuntimeNotFound, 'CNI plugin "bridge" not found'));
    await reconciler.setTarget({ revision: 1, pods: [pod('web-a')] });
    expect(await runtime.list()).toEqual([]);
    expect(reports.at(-1)?.pods[0]?.containers[0]).toMatchObject({ state: 'waiting', reason: 'CreateError', message: 'pod sandbox: CNI plugin "bridge" not found' });
    clock.advance(1000);
    await reconciler.trigger('retry');
    expect((await runtime.list()).map((c) => c.state)).toEqual(['running']);
    expect(reports.at(-1)?.pods[0]?.phase).toBe('Running');
  });

  it('gives the second pod claiming a hostPort a clear error, never a crash', async () => {
    const { runtime, reconciler, reports } = setup();
    await reconciler.setTarget({ revision: 1, pods: [pod('web-a', {}, web80), pod('api-b', {}, web80)] });
    expect((await runtime.list()).map((c) => c.name)).toEqual(['web-a_main']);
    expect(reports.at(-1)?.pods.find((p) => p.name === 'api-b')?.containers[0]?.message).toBe('pod sandbox: hostPort 8080/TCP is already used by pod web-a (app web) on this node');
  });

  it('hands a hostPort from a leaving pod to its replacement without an error in between', async () => {
    const { runtime, reconciler, reports } = setup();
    await reconciler.setTarget({ revision: 1, pods: [pod('web-a', {}, web80)] });
    await reconciler.setTarget({ revision: 2, pods: [pod('web-b', {}, web80)] });
    await reconciler.trigger('manual');
    expect(runtime.sandboxes.calls).toEqual(['create web-a', 'remove web-a', 'create web-b']);
    expect((await runtime.list()).map((c) => c.name)).toEqual(['web-b_main']);
    expect(reports.flatMap((r) => r.pods.flatMap((p) => p.containers.map((c) => c.reason)))).not.toContain('CreateError');
  });

  it('recreates a sandbox lost in a reboot before restarting its exited containers', async () => {
    const { runtime, reconciler } = setup();
    await reconciler.setTarget({ revision: 1, pods: [pod('web-a')] });
    runtime.exit('web-a_main', 137);
    runtime.sandboxes.break('web-a');
    await reconciler.trigger('manual');
    expect(runtime.sandboxes.calls).toEqual(['create web-a', 'remove web-a', 'create web-a']);
  });
});
