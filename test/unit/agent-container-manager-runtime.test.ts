/**
 * ContainerManagerRuntime.start() against a fake ContainerManager and image store: how
 * imagePullPolicy turns into pulls and RunRequest.pullMissing, and what fails how. The real
 * stack runs in test/integration/agent-node-runtime.test.ts.
 */
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ContainerManagerRuntime } from '../../agent/src/agent/container-manager-runtime.js';
import { STOP_GRACE_LABEL } from '../../agent/src/agent/node-runtime.js';
import { failureReason } from '../../agent/src/agent/plan/backoff.js';
import type { ContainerManager, ContainerView, RunRequest } from '../../agent/src/runtime/container-manager.js';
import { ErrorCode, GroveError, isGroveError } from '../../src/core/errors.js';
import { createLogger } from '../../src/core/logger.js';
import { container as podContainer, podTarget, type Container, type WirePodTarget } from '../support/pod-target.js';
import type { RestartPolicy } from '../../src/core/objects/pod.js';

const IMAGE = 'reg.lan/app:1';

/** Images "stored" on the node and a registry that can be taken offline, shared by both fakes. */
class FakeNode {
  readonly stored = new Set<string>();
  registryUp = true;
  readonly pulls: string[] = [];
  readonly runs: RunRequest[] = [];
  private seq = 0;

  fetch(ref: string): void {
    this.pulls.push(ref);
    if (!this.registryUp) throw new GroveError(ErrorCode.RegistryUnavailable, 'registry reg.lan unreachable');
    this.stored.add(ref);
  }

  /** Mirrors ContainerManager.run's image resolution (resolveImage). */
  containers(): ContainerManager {
    const fake = {
      run: async (request: RunRequest): Promise<ContainerView> => {
        this.runs.push(request);
        if (!this.stored.has(request.image)) {
          if (request.pullMissing === false) {
            throw new GroveError(ErrorCode.ImageNotFound, `image "${request.image}" is not stored locally (pull it first)`);
          }
          this.fetch(request.image);
        }
        this.seq += 1;
        const id = this.seq.toString(16).padStart(64, '0');
        return {
          id,
          name: request.name ?? id,
          image: request.image,
          imageDigest: `sha256:${'a'.repeat(64)}`,
          spec: { id, name: request.name ?? id, image: request.image, imageDigest: '', env: [], limits: {}, labels: request.labels ?? {} },
          command: [],
          runtime: 'runc',
          cgroupsPath: `/grove/${id}`,
          rootfsKind: 'copy',
          createdAt: '2025-01-01T00:00:00.000Z',
          state: 'running',
          exitCode: null,
          oomKilled: false,
        };
      },
    };
    return fake as unknown as ContainerManager;
  }
}

function setup(options: { images?: boolean } = {}) {
  const node = new FakeNode();
  const logs: { level: number; msg: string; err?: string }[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) logs.push(JSON.parse(line) as (typeof logs)[number]);
      done();
    },
  });
  const logger = createLogger({ level: 'debug', destination });
  const images = { pull: async (ref: string) => node.fetch(ref) };
  const runtime = new ContainerManagerRuntime({ containers: node.containers(), logger, ...(options.images === false ? {} : { images }) });
  const warnings = () => logs.filter((l) => l.level === 40);
  return { node, runtime, warnings };
}

function pod(policy?: Container['imagePullPolicy'], grace?: number): WirePodTarget {
  const container = podContainer('main', { image: IMAGE, ...(policy ? { imagePullPolicy: policy } : {}) });
  return podTarget('web-a', { containers: [container], ...(grace !== undefined ? { grace } : {}) });
}

const start = (runtime: ContainerManagerRuntime, p: WirePodTarget) => runtime.start(p, p.spec.containers[0] as Container);

async function startError(runtime: ContainerManagerRuntime, p: WirePodTarget): Promise<GroveError> {
  const err = await start(runtime, p).catch((e: unknown) => e);
  if (!isGroveError(err)) throw new Error(`expected a GroveError, got ${String(err)}`);
  return err;
}

describe('ContainerManagerRuntime imagePullPolicy', () => {
  it('IfNotPresent (and absent) pulls a missing image once, then uses the stored one', async () => {
    for (const policy of [undefined, 'IfNotPresent'] as const) {
      const { node, runtime } = setup();
      await start(runtime, pod(policy));
      await start(runtime, pod(policy));
      expect(node.pulls).toEqual([IMAGE]);
      expect(node.runs.map((r) => r.pullMissing)).toEqual([true, true]);
    }
  });

  it('Never starts a stored image without contacting the registry', async () => {
    const { node, runtime } = setup();
    node.stored.add(IMAGE);
    node.registryUp = false;
    expect((await start(runtime, pod('Never'))).state).toBe('running');
    expect(node.pulls).toEqual([]);
    expect(node.runs[0]?.pullMissing).toBe(false);
  });

  it('Never fails with an image-pull reason when the image is not stored', async () => {
    const { node, runtime } = setup();
    const err = await startError(runtime, pod('Never'));
    expect(err.code).toBe(ErrorCode.ImageNotFound);
    expect(err.message).toBe(`image "${IMAGE}" not present and imagePullPolicy is Never`);
    expect(failureReason(err)).toBe('ImagePullError');
    expect(node.pulls).toEqual([]);
  });

  it('Always pulls before every start, even when the image is stored', async () => {
    const { node, runtime, warnings } = setup();
    node.stored.add(IMAGE);
    await start(runtime, pod('Always'));
    await start(runtime, pod('Always'));
    expect(node.pulls).toEqual([IMAGE, IMAGE]);
    // Pulled already: run() must not pull a second time.
    expect(node.runs.map((r) => r.pullMissing)).toEqual([false, false]);
    expect(warnings()).toEqual([]);
  });

  it('Always starts the stored image when the pull fails (offline edge node), with a warning', async () => {
    const { node, runtime, warnings } = setup();
    node.stored.add(IMAGE);
    node.registryUp = false;
    expect((await start(runtime, pod('Always'))).state).toBe('running');
    expect(node.pulls).toEqual([IMAGE]);
    expect(warnings()).toMatchObject([{ msg: 'imagePullPolicy Always: pull failed, started the locally stored image', err: 'registry reg.lan unreachable' }]);
  });

  it('Always fails with the registry error when the pull fails and nothing is stored', async () => {
    const { node, runtime } = setup();
    node.registryUp = false;
    const err = await startError(runtime, pod('Always'));
    expect(err.code).toBe(ErrorCode.RegistryUnavailable);
    expect(failureReason(err)).toBe('ImagePullError');
    expect(node.pulls).toEqual([IMAGE]);
    expect(node.runs[0]?.pullMissing).toBe(false);
  });

  it('Always without an image store wired pulls only missing images and says so once', async () => {
    const { node, runtime, warnings } = setup({ images: false });
    await start(runtime, pod('Always'));
    await start(runtime, pod('Always'));
    expect(node.runs.map((r) => r.pullMissing)).toEqual([true, true]);
    expect(node.pulls).toEqual([IMAGE]);
    expect(warnings()).toHaveLength(1);
    expect(warnings()[0]?.msg).toMatch(/no image store wired/);
  });

  it('passes other run failures through untouched', async () => {
    const { node, runtime } = setup();
    node.stored.add(IMAGE);
    const containers = node.containers();
    const boom = new GroveError(ErrorCode.RuntimeFailed, 'runc create failed');
    (containers as unknown as { run: () => Promise<never> }).run = async () => {
      throw boom;
    };
    const rt = new ContainerManagerRuntime({ containers, logger: createLogger({ level: 'silent' }) });
    for (const policy of ['Never', 'Always', 'IfNotPresent'] as const) {
      expect(await rt.start(pod(policy), pod(policy).spec.containers[0] as Container).catch((e: unknown) => e)).toBe(boom);
    }
  });
});

describe('ContainerManagerRuntime labels', () => {
  it("records the pod's terminationGracePeriodSeconds on the container, only when set", async () => {
    const { runtime } = setup();
    const withGrace = await start(runtime, pod(undefined, 45));
    expect(withGrace.labels[STOP_GRACE_LABEL]).toBe('45');
    expect(withGrace.labels['grove.pod']).toBe('web-a');
    const { runtime: other } = setup();
    expect((await start(other, pod())).labels).not.toHaveProperty(STOP_GRACE_LABEL);
  });
});

describe('ContainerManagerRuntime update-lock directory', () => {
  it("binds the app's lock directory at /grove/lock and sets GROVE_LOCK_DIR", async () => {
    const node = new FakeNode();
    const asked: string[] = [];
    const lockDirs = { ensureDir: async (app: string) => (asked.push(app), `/data/agent/locks/${app}`) };
    const runtime = new ContainerManagerRuntime({ containers: node.containers(), logger: createLogger({ level: 'silent' }), lockDirs });
    await start(runtime, pod());
    expect(asked).toEqual(['web']);
    expect(node.runs[0]?.mounts).toEqual([{ source: '/data/agent/locks/web', destination: '/grove/lock', noExec: true }]);
    expect(node.runs[0]?.env).toContain('GROVE_LOCK_DIR=/grove/lock');
  });

  it('binds nothing without lock directories', async () => {
    const { node, runtime } = setup();
    await start(runtime, pod());
    expect(node.runs[0]?.mounts).toBeUndefined();
    expect(node.runs[0]?.env).not.toContain('GROVE_LOCK_DIR=/grove/lock');
  });
});

describe('ContainerManagerRuntime seccomp profile', () => {
  it("passes the container's Unconfined or Localhost profile on to the runtime; nothing for the default", async () => {
    const { node, runtime } = setup();
    const withProfile = (seccompProfile?: NonNullable<Container['securityContext']>['seccompProfile']): WirePodTarget => {
      const p = pod();
      return { ...p, spec: { ...p.spec, containers: [{ ...p.spec.containers[0]!, ...(seccompProfile ? { securityContext: { seccompProfile } } : {}) }] } };
    };
    await start(runtime, withProfile({ type: 'Unconfined' }));
    await start(runtime, withProfile({ type: 'Localhost', localhostProfile: 'profiles/audit.json' }));
    await start(runtime, withProfile());
    expect(node.runs.map((r) => r.seccompProfile)).toEqual([{ type: 'Unconfined' }, { type: 'Localhost', localhostProfile: 'profiles/audit.json' }, undefined]);
  });
});
