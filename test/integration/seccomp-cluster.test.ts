import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { TestCluster } from '../support/cluster.js';
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

  const apply = async (name: string, podContext: string, containerContext: string) => {
    const script = '/bin/probe; touch /tmp/f && rm /tmp/f 2>/dev/null && echo rm=ok || echo rm=refused; trap "exit 0" TERM; while true; do sleep 1; done';
    const text = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
spec:
  selector: { matchLabels: { app: ${name} } }
  template:
    metadata:
      labels: { app: ${name} }
    spec:
      terminationGracePeriodSeconds: 1
${podContext}      containers:
        - name: main
          image: ${env!.registry.host}/test/probe:1
          command: ["sh", "-c", ${JSON.stringify(script)}]
${containerContext}`;
    const file = join(env!.scratch, `${name}.yaml`);
    await writeFile(file, text);
    const r = await cluster.grove(['apply', '-f', file]);
    expect(r.code, r.stderr).toBe(0);
  };
  const probeOf = async (app: string) => {
    await cluster.waitForRunning(app, 1, 90_000);
    const text = await eventually(async () => {
      const out = (await cluster.grove(['logs', app])).stdout;
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
    await apply('confined', '', '');
    await apply('free', '      securityContext: { seccompProfile: { type: Unconfined } }\n', '');
    await apply('audited', '      securityContext: { seccompProfile: { type: Unconfined } }\n', '          securityContext: { seccompProfile: { type: Localhost, localhostProfile: profiles/no-unlink.json } }\n');
    await apply('lost', '', '          securityContext: { seccompProfile: { type: Localhost, localhostProfile: profiles/missing.json } }\n');

    expect(await probeOf('confined')).toEqual({ ...allAttempts('EPERM'), seccomp_mode: '2', rm: 'ok' });
    expect(await probeOf('free')).toEqual({ ...allAttempts('ok'), mount_tmpfs: 'EPERM', seccomp_mode: '0', rm: 'ok' });
    expect(await probeOf('audited')).toEqual({ ...allAttempts('ok'), mount_tmpfs: 'EPERM', seccomp_mode: '2', rm: 'refused' });

    const lost = await eventually(async () => {
      const c = (await cluster.pods('lost'))[0]?.containers[0] as { reason?: string; message?: string } | undefined;
      return c?.reason === 'CreateError' ? c : undefined;
    }, 60_000, 'the missing profile in the pod status');
    expect(lost.message).toContain(`seccomp profile Localhost/profiles/missing.json: ${cluster.agentDir('node-a')}/seccomp/profiles/missing.json does not exist on this node`);
    expect((await cluster.runningContainers('node-a')).map((c) => c.name).filter((n) => n.includes('lost'))).toEqual([]);

    const described = (await cluster.grove(['describe', 'app', 'audited'])).stdout;
    expect(described).toContain('Seccomp:  Localhost (profiles/no-unlink.json)');
    expect((await cluster.grove(['describe', 'app', 'confined'])).stdout).not.toContain('Seccomp:');
  }, 300_000);
});
