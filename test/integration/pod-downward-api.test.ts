import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { TestCluster } from '../support/cluster.js';
import { eventually } from '../support/grove-cli.js';
import { startOneNodeCluster, type OneNodeCluster } from '../support/one-node.js';
import { describeWith } from '../support/prereq.js';

/**
 * Issue 16 (pod data fields), with a real container: a busybox pod prints its fieldRef and
 * resourceFieldRef variables and the files of its downwardAPI and projected volumes; the values
 * are the pod's (name, namespace, uid, labels, annotation, node, its address on the bridge, the
 * node's address, its limits); a label changed on the running pod reaches its labels file.
 */
describeWith(['root', 'runc', 'registry', 'shim'], 'pods: the downward API (real containers)', () => {
  let env: OneNodeCluster | undefined;
  let cluster: TestCluster;

  beforeAll(async () => {
    env = await startOneNodeCluster('grove-downward-', 'node-a');
    cluster = env.cluster;
  }, 180_000);

  afterAll(async () => {
    await env?.destroy();
  });

  const manifest = (image: string, tier: string) => `apiVersion: v1
kind: ConfigMap
metadata: { name: info-settings }
data: { level: debug }
---
apiVersion: v1
kind: Pod
metadata:
  name: info
  labels: { app: info, tier: ${tier} }
  annotations: { example.com/owner: team-a }
spec:
  terminationGracePeriodSeconds: 1
  serviceAccountName: reporter
  containers:
    - name: main
      image: ${image}
      resources: { limits: { cpu: 250m, memory: 32Mi } }
      env:
        - { name: POD_NAME, valueFrom: { fieldRef: { fieldPath: metadata.name } } }
        - { name: POD_NS, valueFrom: { fieldRef: { fieldPath: metadata.namespace } } }
        - { name: POD_UID, valueFrom: { fieldRef: { fieldPath: metadata.uid } } }
        - { name: POD_TIER, valueFrom: { fieldRef: { fieldPath: "metadata.labels['tier']" } } }
        - { name: OWNER, valueFrom: { fieldRef: { fieldPath: "metadata.annotations['example.com/owner']" } } }
        - { name: NODE, valueFrom: { fieldRef: { fieldPath: spec.nodeName } } }
        - { name: SA, valueFrom: { fieldRef: { fieldPath: spec.serviceAccountName } } }
        - { name: POD_IP, valueFrom: { fieldRef: { fieldPath: status.podIP } } }
        - { name: HOST_IP, valueFrom: { fieldRef: { fieldPath: status.hostIP } } }
        - { name: CPU_M, valueFrom: { resourceFieldRef: { resource: limits.cpu, divisor: 1m } } }
        - { name: MEM_MI, valueFrom: { resourceFieldRef: { resource: limits.memory, divisor: 1Mi } } }
      volumeMounts:
        - { name: podinfo, mountPath: /etc/podinfo }
        - { name: bundle, mountPath: /etc/bundle }
      command:
        - sh
        - -c
        - |
          echo "ENV POD_NAME=$POD_NAME POD_NS=$POD_NS POD_UID=$POD_UID POD_TIER=$POD_TIER OWNER=$OWNER NODE=$NODE SA=$SA CPU_M=$CPU_M MEM_MI=$MEM_MI"
          echo "IPS POD_IP=$POD_IP HOST_IP=$HOST_IP"
          ip -4 -o addr show eth0 | awk '{print "ETH0", $4}'
          echo "FILE name=$(cat /etc/podinfo/name) mem=$(cat /etc/podinfo/mem)"
          echo "LABELS $(cat /etc/podinfo/labels | tr '\\n' ' ')"
          echo "BUNDLE level=$(cat /etc/bundle/level) ns=$(cat /etc/bundle/ns)"
          trap 'exit 0' TERM; while true; do sleep 1; done
  volumes:
    - name: podinfo
      downwardAPI:
        items:
          - { path: name, fieldRef: { fieldPath: metadata.name } }
          - { path: labels, fieldRef: { fieldPath: metadata.labels } }
          - { path: mem, resourceFieldRef: { containerName: main, resource: limits.memory, divisor: 1Mi } }
    - name: bundle
      projected:
        sources:
          - configMap: { name: info-settings }
          - downwardAPI: { items: [{ path: ns, fieldRef: { fieldPath: metadata.namespace } }] }
`;

  it('a busybox pod sees its own fields as variables and files, and a changed label in its file', async () => {
    const image = `${env!.registry.host}/test/busybox:1`;
    const file = join(env!.scratch, 'info.yaml');
    await writeFile(file, manifest(image, 'front'));
    const applied = await cluster.grove(['apply', '-f', file]);
    expect(applied.code, applied.stderr).toBe(0);
    const out = await eventually(async () => {
      const text = (await cluster.grove(['logs', 'info'])).stdout;
      return text.includes('BUNDLE') ? text : undefined;
    }, 120_000, 'the pod printed its fields');
    const pod = JSON.parse((await cluster.grove(['get', 'pod', 'info', '-o', 'json'])).stdout) as { metadata: { uid: string }; status: { podIP?: string; hostIP?: string } };
    expect(out).toContain(`ENV POD_NAME=info POD_NS=default POD_UID=${pod.metadata.uid} POD_TIER=front OWNER=team-a NODE=node-a SA=reporter CPU_M=250 MEM_MI=32`);
    // The address the container has on eth0 is the one fieldRef gave it, and the one the pod's status reports.
    const podIP = /IPS POD_IP=(\S*) HOST_IP=(\S*)/.exec(out)!;
    expect(podIP[1]).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(out).toContain(`ETH0 ${podIP[1]}/`);
    await eventually(async () => {
      const status = JSON.parse((await cluster.grove(['get', 'pod', 'info', '-o', 'json'])).stdout) as { status: { podIP?: string; hostIP?: string } };
      return status.status.podIP === podIP[1] && status.status.hostIP === podIP[2] ? true : undefined;
    }, 60_000, 'the pod status reports the same addresses');
    expect(out).toContain('FILE name=info mem=32');
    expect(out).toContain('LABELS app="info" tier="front"');
    expect(out).toContain('BUNDLE level=debug ns=default');

    // A label changed on the running pod reaches its file in place (the container is not restarted).
    await writeFile(file, manifest(image, 'back'));
    const reapplied = await cluster.grove(['apply', '-f', file]);
    expect(reapplied.code, reapplied.stderr).toBe(0);
    await eventually(async () => {
      const r = await cluster.grove(['exec', 'info', '--', 'cat', '/etc/podinfo/labels']);
      return r.stdout.includes('tier="back"') ? true : undefined;
    }, 60_000, 'the labels file shows the new label');
    const restarts = JSON.parse((await cluster.grove(['get', 'pod', 'info', '-o', 'json'])).stdout) as { status: { containerStatuses: { restartCount: number }[] } };
    expect(restarts.status.containerStatuses[0]!.restartCount).toBe(0);
  }, 300_000);
});
