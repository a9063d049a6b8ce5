import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { manifestFixture, type TestCluster } from '../support/cluster.js';
import { eventually } from '../support/grove-cli.js';
import { pushImage } from '../support/image-builder.js';
import { startOneNodeCluster, type OneNodeCluster } from '../support/one-node.js';
import { describeWith } from '../support/prereq.js';
import { allAttempts, buildProbeImage, compileProbe, parseProbe } from '../support/seccomp-probe.js';

/**
 * seccompProfile through a real cluster (issue 12, defect 3): a default pod runs under the
 * default profile; pod-level Unconfined is not filtered; a container's Localhost profile is
 * read from the node's <data-dir>/seccomp/; a missing one is the pod's CreateError, never an
 * unconfined start.
 */
describeWith(['root', 'runc', 'registry', 'shim', 'musl-gcc'], 'seccompProfile in cluster pods (real containers)', () => {
  let env: OneNodeCluster | undefined;
  let cluster: TestCluster;

  const probeOf = async (app: string) => {
    await cluster.waitForRunning(app, 1, 90_000);
    const text = await eventually(async () => {
      const out = (await cluster.grove(['logs', `deploy/${app}`])).stdout;
      return out.includes('rm=') ? out : undefined;
    }, 30_000, `the probe's output in ${app}'s logs`);
    return { ...parseProbe(text), rm: /rm=(\w+)/.exec(text)![1] };
  };

  beforeAll(async () => {
    env = await startOneNodeCluster('grove-seccomp-cluster-', 'node-a');
    cluster = env.cluster;
    await pushImage(env.registry.url, 'test/probe', '1', await buildProbeImage(compileProbe(env.scratch)));
    // The node's own profile directory, as an operator would fill it.
    const dir = join(cluster.agentDir('node-a'), 'seccomp', 'profiles');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'no-unlink.json'), JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['unlink', 'unlinkat'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 }] }));
  }, 180_000);

  afterAll(async () => {
    await env?.destroy();
  });

  it('default pods are filtered, Unconfined and Localhost pods get what they asked for, a missing profile is a CreateError', async () => {
    const file = join(env!.scratch, 'seccomp-pods.yaml');
    await writeFile(file, await manifestFixture('seccomp-pods.yaml', env!.registry.host));
    const applied = await cluster.grove(['apply', '-f', file]);
    expect(applied.code, applied.stderr).toBe(0);

    expect(await probeOf('confined')).toEqual({ ...allAttempts('EPERM'), seccomp_mode: '2', rm: 'ok' });
    expect(await probeOf('free')).toEqual({ ...allAttempts('ok'), mount_tmpfs: 'EPERM', seccomp_mode: '0', rm: 'ok' });
    expect(await probeOf('audited')).toEqual({ ...allAttempts('ok'), mount_tmpfs: 'EPERM', seccomp_mode: '2', rm: 'refused' });

    const lost = await eventually(async () => {
      const c = (await cluster.pods('lost'))[0]?.containers[0];
      return c?.reason === 'CreateError' ? c : undefined;
    }, 60_000, 'the missing profile in the pod status');
    expect(lost.message).toContain(`seccomp profile Localhost/profiles/missing.json: ${cluster.agentDir('node-a')}/seccomp/profiles/missing.json does not exist on this node`);
    expect((await cluster.runningContainers('node-a')).map((c) => c.name).filter((n) => n.includes('lost'))).toEqual([]);

    const described = (await cluster.grove(['describe', 'deployment', 'audited'])).stdout;
    expect(described).toMatch(/Seccomp:\s+Localhost \(profiles\/no-unlink\.json\)\n/);
    expect((await cluster.grove(['describe', 'deployment', 'confined'])).stdout).not.toContain('Seccomp:');
  }, 300_000);
});
