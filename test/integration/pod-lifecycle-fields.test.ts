/**
 * Container lifecycle fields end to end (server + agent, real busybox containers): a native
 * sidecar (init container with restartPolicy Always) runs beside a Job's main container and is
 * stopped once the main one ends, so the Job completes; a postStart hook writes a file the main
 * command reads (the container is not Running before the hook ends); the main container's
 * termination message (/dev/termination-log) reaches the pod status, and a
 * FallbackToLogsOnError container's failing log does too.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { KindObject } from '../../src/core/objects/validate.js';
import { TestCluster } from '../support/cluster.js';
import { eventually } from '../support/grove-cli.js';
import { buildBusyboxImage, pushImage } from '../support/image-builder.js';
import { describeWith } from '../support/prereq.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';

type Job = KindObject<'Job'>;
type Pod = KindObject<'Pod'>;

describeWith(['root', 'runc', 'registry', 'shim'], 'postStart, native sidecars and termination messages (server + agent)', () => {
  const suffix = Math.random().toString(36).slice(2, 7);
  const jobName = `side-${suffix}`;
  const podName = `fail-${suffix}`;
  let registry: TestRegistry;
  let cluster: TestCluster;
  let scratch: string;

  const apply = async (name: string, text: string) => {
    const file = join(scratch, `${name}.yaml`);
    await writeFile(file, text.replaceAll('REGISTRY', registry.host));
    const r = await cluster.grove(['apply', '-f', file]);
    expect(r.code, r.stderr).toBe(0);
  };

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'grove-lifecycle-manifests-'));
    registry = await startRegistry();
    await pushImage(registry.url, 'test/busybox', '1', await buildBusyboxImage());
    cluster = await TestCluster.create({ env: { GROVE_LOG_LEVEL: 'info' } });
    await cluster.startServer();
    await cluster.startAgent('node-a', { token: await cluster.token() });
    await cluster.waitForNodesReady(['node-a']);
  }, 180_000);

  afterAll(async () => {
    await cluster?.destroy();
    await registry?.stop();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it('runs a sidecar beside a Job\'s main container, runs postStart before it counts as started, and reports the termination message', async () => {
    await apply(
      jobName,
      `apiVersion: batch/v1
kind: Job
metadata:
  name: ${jobName}
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      terminationGracePeriodSeconds: 2
      volumes:
        - name: shared
          emptyDir: {}
      initContainers:
        - name: proxy
          image: REGISTRY/test/busybox:1
          restartPolicy: Always
          command: ["sh", "-c", "trap 'exit 0' TERM; echo up > /shared/sidecar; while true; do sleep 1; done"]
          volumeMounts: [{ name: shared, mountPath: /shared }]
      containers:
        - name: main
          image: REGISTRY/test/busybox:1
          lifecycle:
            postStart:
              exec:
                command: ["sh", "-c", "echo from-poststart > /tmp/hook"]
          command:
            - sh
            - -c
            - |
              for i in $(seq 1 100); do [ -f /tmp/hook ] && [ -f /shared/sidecar ] && break; sleep 0.1; done
              echo "hook=$(cat /tmp/hook) sidecar=$(cat /shared/sidecar)"
              printf 'migrated 3 tables' > /dev/termination-log
          volumeMounts: [{ name: shared, mountPath: /shared }]
`,
    );
    const done = await eventually(async () => {
      const j = await cluster.json<Job>(['get', 'job', jobName]);
      return j.status?.conditions?.some((c) => c.type === 'Complete' && c.status === 'True') ? j : undefined;
    }, 120_000, 'the Job to complete while its sidecar ran');
    expect(done.status).toMatchObject({ succeeded: 1, failed: 0 });

    const logs = await cluster.grove(['logs', `job/${jobName}`, '-c', 'main']);
    expect(logs.stdout.trim(), logs.stderr).toBe('hook=from-poststart sidecar=up');

    // The sidecar was stopped once the main container ended: nothing of the Job runs any more.
    const containers = (await cluster.containers('node-a')).filter((c) => (c as { labels?: Record<string, string> }).labels?.['grove.app'] === jobName);
    await eventually(async () => {
      const now = (await cluster.containers('node-a')).filter((c) => (c as { labels?: Record<string, string> }).labels?.['grove.app'] === jobName);
      return now.length >= 2 && now.every((c) => c.state === 'exited') ? now : undefined;
    }, 30_000, 'the sidecar to be stopped');
    expect(containers.length).toBeGreaterThanOrEqual(2);

    const pod = await eventually(async () => {
      const { items } = await cluster.json<{ items: Pod[] }>(['get', 'pods']);
      const p = items.find((x) => x.metadata.ownerReferences?.some((o) => o.name === jobName));
      return p?.status?.containerStatuses?.[0]?.state?.terminated ? p : undefined;
    }, 30_000, 'the Job pod status');
    expect(pod.status?.phase).toBe('Succeeded');
    expect(pod.status?.containerStatuses?.[0]?.state?.terminated).toMatchObject({ exitCode: 0, reason: 'Completed', message: 'migrated 3 tables' });
    expect(pod.status?.initContainerStatuses?.[0]?.name).toBe('proxy');
  }, 180_000);

  it('falls back to the log of a failed container with FallbackToLogsOnError, and shows it in describe', async () => {
    await apply(
      podName,
      `apiVersion: v1
kind: Pod
metadata:
  name: ${podName}
spec:
  restartPolicy: Never
  containers:
    - name: main
      image: REGISTRY/test/busybox:1
      terminationMessagePolicy: FallbackToLogsOnError
      command: ["sh", "-c", "echo 'config.yaml: no such file'; exit 4"]
`,
    );
    const pod = await eventually(async () => {
      const p = await cluster.json<Pod>(['get', 'pod', podName]);
      return p.status?.containerStatuses?.[0]?.state?.terminated ? p : undefined;
    }, 90_000, 'the pod to fail');
    expect(pod.status?.containerStatuses?.[0]?.state?.terminated).toMatchObject({ exitCode: 4, reason: 'Error', message: 'config.yaml: no such file' });
    const described = await cluster.grove(['describe', 'pod', podName]);
    expect(described.stdout).toMatch(/Message:\s+config\.yaml: no such file/);
  }, 120_000);
});
