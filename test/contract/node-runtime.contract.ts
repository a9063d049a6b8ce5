/**
 * The NodeRuntime contract: what the agent relies on, run against MemoryRuntime (unit) and
 * ContainerManagerRuntime (integration, real runc + shim + registry). A harness supplies
 * container targets that print lines and either keep running or exit with a code.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { NodeRuntime, RuntimeLogLine } from '../../agent/src/agent/node-runtime.js';
import { ErrorCode, isGroveError } from '../../src/core/errors.js';
import { sandboxRequestOf } from '../../agent/src/agent/plan/pod-fields.js';
import { podTarget, type Container, type PodDesc, type WirePodTarget } from '../support/pod-target.js';

export interface RuntimeHarness {
  runtime: NodeRuntime;
  /** Prints `lines` on stdout, then runs until stopped. */
  longRunning(name: string, lines: string[]): Container;
  /** Prints `lines` on stdout, then exits with `code`. */
  exiting(name: string, lines: string[], code: number): Container;
  /** Serves HTTP (200 at /) on `port` of its own network (loopback), until stopped. */
  listening(name: string, port: number): Container;
  /**
   * For scripted runtimes: makes the started container answer probes as a real one would —
   * exec of EXEC_OK exits 0, other commands fail; network checks pass on LISTEN_PORT only.
   */
  scriptProbes?(containerName: string): void;
  /** Creates a container the agent did not create (no grove labels), when the runtime can. */
  createUnmanaged?(name: string): Promise<void>;
  /** Makes the harness see time pass / processes progress; polls until `check` is truthy. */
  eventually<T>(check: () => Promise<T | undefined | false>, what: string): Promise<T>;
  cleanup(): Promise<void>;
}

/** The contract's probe commands and ports, shared with scripted harnesses. */
export const EXEC_OK = ['sh', '-c', 'exit 0'];
export const EXEC_FAIL = ['sh', '-c', 'exit 3'];
export const LISTEN_PORT = 8080;
const CLOSED_PORT = 8081;

let seq = 0;
function podFor(container: Container, over: PodDesc = {}): WirePodTarget {
  seq += 1;
  return podTarget(`ct-${seq}`, { app: 'contract', hash: `hash${seq}`, containers: [container], ...over });
}

async function collect(lines: AsyncIterable<RuntimeLogLine>): Promise<RuntimeLogLine[]> {
  const out: RuntimeLogLine[] = [];
  for await (const l of lines) out.push(l);
  return out;
}

export function nodeRuntimeContract(makeHarness: () => Promise<RuntimeHarness>): void {
  let h: RuntimeHarness;

  beforeAll(async () => {
    h = await makeHarness();
  });

  afterAll(async () => {
    await h?.cleanup();
  });

  it('starts a labelled container named <pod>_<container> and lists it', async () => {
    const pod = podFor(h.longRunning('main', ['hello']));
    const started = await h.runtime.start(pod, pod.spec.containers[0] as Container);
    expect(started).toMatchObject({
      name: `${pod.name}_main`,
      state: 'running',
      exitCode: null,
      oomKilled: false,
      restarts: 0,
      labels: { 'grove.managed': 'agent', 'grove.pod': pod.name, 'grove.app': 'contract', 'grove.container': 'main', 'grove.template-hash': pod.templateHash },
    });
    expect(started.id).toMatch(/^[0-9a-f]{64}$/);
    expect(Date.parse(started.createdAt)).not.toBeNaN();
    const listed = (await h.runtime.list()).find((c) => c.id === started.id);
    expect(listed).toMatchObject({ name: started.name, state: 'running', labels: started.labels });
    await h.runtime.remove(started.id);
  });

  it('keeps the restart count given at start', async () => {
    const pod = podFor(h.longRunning('main', []));
    const started = await h.runtime.start(pod, pod.spec.containers[0] as Container, { restarts: 4 });
    expect((await h.runtime.list()).find((c) => c.id === started.id)?.restarts).toBe(4);
    await h.runtime.remove(started.id);
  });

  it('refuses a second container with the same pod and container name', async () => {
    const pod = podFor(h.longRunning('main', []));
    const c = pod.spec.containers[0] as Container;
    const started = await h.runtime.start(pod, c);
    const err = await h.runtime.start(pod, c).catch((e: unknown) => e);
    expect(isGroveError(err, ErrorCode.ContainerExists)).toBe(true);
    await h.runtime.remove(started.id);
  });

  it('reports an exit with its code and time', async () => {
    const pod = podFor(h.exiting('main', ['bye'], 3));
    const started = await h.runtime.start(pod, pod.spec.containers[0] as Container);
    const exited = await h.eventually(async () => {
      const c = (await h.runtime.list()).find((x) => x.id === started.id);
      return c?.state === 'exited' ? c : undefined;
    }, 'the container to exit');
    expect(exited.exitCode).toBe(3);
    expect(exited.oomKilled).toBe(false);
    expect(Date.parse(exited.finishedAt ?? '')).not.toBeNaN();
    await h.runtime.remove(started.id);
  });

  it('reads logs in order, with tail', async () => {
    const pod = podFor(h.exiting('main', ['one', 'two', 'three'], 0));
    const started = await h.runtime.start(pod, pod.spec.containers[0] as Container);
    const lines = await h.eventually(async () => {
      const l = await collect(h.runtime.logs(started.id));
      return l.length >= 3 ? l : undefined;
    }, 'three log lines');
    expect(lines.map((l) => [l.stream, l.text])).toEqual([['stdout', 'one'], ['stdout', 'two'], ['stdout', 'three']]);
    expect(Date.parse(lines[0]?.time ?? '')).not.toBeNaN();
    expect((await collect(h.runtime.logs(started.id, { tail: 2 }))).map((l) => l.text)).toEqual(['two', 'three']);
    await h.runtime.remove(started.id);
  });

  it('follows logs until aborted', async () => {
    const pod = podFor(h.longRunning('main', ['first']));
    const started = await h.runtime.start(pod, pod.spec.containers[0] as Container);
    await h.eventually(async () => (await collect(h.runtime.logs(started.id))).length > 0 || undefined, 'a first log line');
    const ac = new AbortController();
    const seen: string[] = [];
    for await (const line of h.runtime.logs(started.id, { follow: true, signal: ac.signal })) {
      seen.push(line.text);
      ac.abort();
    }
    expect(seen).toEqual(['first']);
    await h.runtime.remove(started.id);
  });

  it('stops a running container (non-zero exit) and stopping again is harmless', async () => {
    const pod = podFor(h.longRunning('main', []));
    const started = await h.runtime.start(pod, pod.spec.containers[0] as Container);
    await h.runtime.stop(started.id, 1);
    const c = (await h.runtime.list()).find((x) => x.id === started.id);
    expect(c?.state).toBe('exited');
    expect(c?.exitCode).not.toBe(0);
    await h.runtime.stop(started.id, 1);
    await h.runtime.remove(started.id);
  });

  it('removes running and exited containers; removing an unknown id is harmless', async () => {
    const pod = podFor(h.longRunning('main', []));
    const started = await h.runtime.start(pod, pod.spec.containers[0] as Container);
    await h.runtime.remove(started.id);
    expect((await h.runtime.list()).some((c) => c.id === started.id)).toBe(false);
    await h.runtime.remove(started.id);
    await h.runtime.remove('f'.repeat(64));
    // The name is free again.
    const again = await h.runtime.start(pod, pod.spec.containers[0] as Container);
    await h.runtime.remove(again.id);
  });

  it('execs a command in a running container and reports its exit; a stopped one is ContainerNotRunning', async () => {
    const pod = podFor(h.longRunning('main', []));
    const started = await h.runtime.start(pod, pod.spec.containers[0] as Container);
    h.scriptProbes?.(started.name);
    expect(await h.runtime.exec(started.id, EXEC_OK, { timeoutMs: 10_000 })).toMatchObject({ exitCode: 0, timedOut: false });
    const failed = await h.runtime.exec(started.id, EXEC_FAIL, { timeoutMs: 10_000 });
    expect(failed.timedOut).toBe(false);
    expect(failed.exitCode).not.toBeNull();
    expect(failed.exitCode).not.toBe(0);
    await h.runtime.stop(started.id, 1);
    const err = await h.runtime.exec(started.id, EXEC_OK, { timeoutMs: 10_000 }).catch((e: unknown) => e);
    expect(isGroveError(err, ErrorCode.ContainerNotRunning)).toBe(true);
    await h.runtime.remove(started.id);
  });

  it("probes the container's own network: an open port and an HTTP 200 pass, a closed port fails", async () => {
    const pod = podFor(h.listening('web', LISTEN_PORT));
    const started = await h.runtime.start(pod, pod.spec.containers[0] as Container);
    h.scriptProbes?.(started.name);
    const probe = (check: Parameters<NodeRuntime['probeNetwork']>[1]) => h.runtime.probeNetwork(started.id, check, { timeoutMs: 3000, hostNetwork: false });
    const open = await h.eventually(async () => {
      const r = await probe({ tcpSocket: { port: LISTEN_PORT } });
      return r.ok ? r : undefined;
    }, 'the port to open');
    expect(open.message).not.toBe('');
    expect((await probe({ httpGet: { path: '/', port: LISTEN_PORT } })).ok).toBe(true);
    const closed = await probe({ tcpSocket: { port: CLOSED_PORT } });
    expect(closed.ok).toBe(false);
    expect(closed.message).not.toBe('');
    await h.runtime.stop(started.id, 1);
    // Whether it rejects or answers, a check on a stopped container never passes.
    const stopped = await probe({ tcpSocket: { port: LISTEN_PORT } }).catch(() => ({ ok: false }));
    expect(stopped.ok).toBe(false);
    await h.runtime.remove(started.id);
  });

  it('lists only containers the agent created', async () => {
    if (h.createUnmanaged) await h.createUnmanaged('not-ours');
    const pod = podFor(h.longRunning('main', []));
    const started = await h.runtime.start(pod, pod.spec.containers[0] as Container);
    const names = (await h.runtime.list()).map((c) => c.name);
    expect(names).toContain(started.name);
    expect(names).not.toContain('not-ours');
    for (const c of await h.runtime.list()) expect(c.labels['grove.managed']).toBe('agent');
    await h.runtime.remove(started.id);
  });

  it('makes a pod sandbox its containers join, refuses a second claim of its hostPort, and removes it', async () => {
    const ops = h.runtime.sandboxes;
    if (!ops) throw new Error('the runtime has no pod sandboxes');
    const hostPort = 20000 + Math.floor(Math.random() * 20000);
    const main = { ...h.longRunning('main', []), ports: [{ containerPort: LISTEN_PORT, hostPort, protocol: 'TCP' as const }] };
    const pod = podFor(main);
    const made = await ops.create(sandboxRequestOf(pod));
    expect(made).toMatchObject({ pod: pod.name, app: 'contract', hostNetwork: false, ready: true, ports: [{ hostPort, protocol: 'tcp' }] });
    expect(made.ip).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect((await ops.list()).find((s) => s.pod === pod.name)).toMatchObject({ ready: true, networkKey: made.networkKey, ip: made.ip });
    // One hostPort per node: the second pod fails whole, naming the first, and leaves nothing.
    const rival = podFor({ ...h.longRunning('main', []), ports: [{ containerPort: 80, hostPort, protocol: 'TCP' as const }] });
    await expect(ops.create(sandboxRequestOf(rival))).rejects.toThrow(`hostPort ${hostPort}/TCP is already used by pod ${pod.name}`);
    expect((await ops.list()).map((s) => s.pod)).not.toContain(rival.name);
    const started = await h.runtime.start(pod, main);
    expect(started.state).toBe('running');
    await ops.writeHosts(new Map([[pod.name, '127.0.0.1\tlocalhost\n']]));
    await h.runtime.remove(started.id);
    await ops.remove(pod.name);
    expect((await ops.list()).map((s) => s.pod)).not.toContain(pod.name);
    await ops.remove(pod.name);
    // On the host's network: no address, nothing to publish.
    const host = podFor(h.longRunning('main', []), { hostNetwork: true });
    const onHost = await ops.create(sandboxRequestOf(host));
    expect(onHost).toMatchObject({ hostNetwork: true, ready: true, networkKey: 'host' });
    expect(onHost.ip).toBeUndefined();
    await ops.remove(host.name);
  });
}
