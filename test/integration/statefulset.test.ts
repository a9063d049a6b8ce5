import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { PodJson, TestCluster } from '../support/cluster.js';
import { eventually } from '../support/grove-cli.js';
import { kubectlWith, writeKubeconfig } from '../support/kubectl.js';
import { startOneNodeCluster, type OneNodeCluster } from '../support/one-node.js';
import { describeWith } from '../support/prereq.js';

/**
 * A StatefulSet of 3 with a headless Service and a claim template, through the whole path on
 * two nodes: pods web-0..2 made one after another (each once the one before runs), each with its
 * own local-path claim; web-1.<svc> resolves from web-0 through the node's cluster DNS and the
 * pod's hostname and /etc/hosts are its own; what web-0 wrote survives deleting it: the pod
 * comes back with the same name, the same claim, on the same node.
 */
describeWith(['root', 'runc', 'registry', 'shim', 'kubectl'], 'StatefulSet (two nodes)', () => {
  let env: OneNodeCluster | undefined;
  let cluster: TestCluster;
  const tag = randomBytes(3).toString('hex');
  const sts = `web${tag}`;
  const svc = `peers${tag}`;
  const fqdn = (pod: string) => `${pod}.${svc}.default.svc.cluster.local`;

  beforeAll(async () => {
    env = await startOneNodeCluster('grove-sts-', 'node-a', { extraArgs: ['--tls'] });
    cluster = env.cluster;
    await cluster.startAgent('node-b', { token: await cluster.token() });
    await cluster.waitForNodesReady(['node-a', 'node-b']);
  }, 240_000);

  afterAll(async () => {
    await env?.destroy();
  });

  it('makes pods in order with their own claims, names them in DNS, and gives a deleted pod its name, claim and node back', async () => {
    const image = `${env!.registry.host}/test/busybox:1`;
    const file = join(env!.scratch, 'sts.yaml');
    await writeFile(file, `apiVersion: v1
kind: Service
metadata: { name: ${svc} }
spec:
  clusterIP: None
  selector: { app: ${sts} }
  ports: [{ name: tcp, port: 7000 }]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: { name: ${sts} }
spec:
  serviceName: ${svc}
  replicas: 3
  selector: { matchLabels: { app: ${sts} } }
  template:
    metadata: { labels: { app: ${sts} } }
    spec:
      terminationGracePeriodSeconds: 1
      containers:
        - name: main
          image: ${image}
          command: ["sh", "-c", "echo \\"before: $(cat /data/log 2>/dev/null)\\"; hostname >> /data/log; trap 'exit 0' TERM; while true; do sleep 1; done"]
          volumeMounts: [{ name: data, mountPath: /data }]
  volumeClaimTemplates:
    - metadata: { name: data }
      spec:
        accessModes: [ReadWriteOnce]
        resources: { requests: { storage: 16Mi } }
`);
    const applied = await cluster.grove(['apply', '-f', file]);
    expect(applied.code, applied.stderr).toBe(0);

    // OrderedReady: each pod appears only once the one before it runs.
    const seen: string[] = [];
    const dump = async () => {
      for (const args of [['get', 'pods', '-o', 'wide'], ['get', 'pvc'], ['get', 'sts', sts, '-o', 'yaml'], ['describe', 'pods'], ['get', 'events']]) {
        const r = await cluster.grove(args);
        console.log(`$ grove ${args.join(' ')}\n${r.stdout}${r.stderr}`);
      }
      console.log(cluster.serverLog.split('\n').filter((l) => /error|warn|fail|statefulset/i.test(l)).slice(-40).join('\n'));
    };
    await eventually(async () => {
      const pods = (await cluster.pods()).filter((p) => p.name.startsWith(`${sts}-`));
      for (const p of pods.sort((a, b) => a.name.localeCompare(b.name))) {
        if (seen.includes(p.name)) continue;
        const before = Number(p.name.slice(sts.length + 1)) - 1;
        if (before >= 0) expect(pods.find((q) => q.name === `${sts}-${before}`)?.phase, `${p.name} made while ${sts}-${before} did not run`).toBe('Running');
        seen.push(p.name);
      }
      return pods.length === 3 && pods.every((p) => p.phase === 'Running' && p.ready);
    }, 180_000, 'three pods running').catch(async (err: unknown) => {
      await dump();
      throw err;
    });
    expect(seen).toEqual([`${sts}-0`, `${sts}-1`, `${sts}-2`]);

    const table = await cluster.grove(['get', 'sts']);
    expect(table.stdout).toMatch(/^NAME\s+READY\s+AGE/m);
    expect(table.stdout).toMatch(new RegExp(`^${sts}\\s+3/3\\s`, 'm'));
    const kubectl = kubectlWith(env!.scratch, await writeKubeconfig(env!.scratch, cluster.serverDir));
    const rollout = await kubectl('rollout', 'status', `sts/${sts}`, '--timeout=60s');
    expect(rollout.code, rollout.stderr).toBe(0);
    expect(rollout.stdout).toContain('roll out complete');
    const claims = await cluster.json<{ items: { metadata: { name: string }; status: { phase: string } }[] }>(['get', 'pvc']);
    expect(claims.items.map((c) => `${c.metadata.name} ${c.status.phase}`).sort()).toEqual([0, 1, 2].map((i) => `data-${sts}-${i} Bound`));

    // Names: its own hostname and FQDN inside the pod, the peer's through cluster DNS.
    const pod0 = `${sts}-0`;
    const hostname = await cluster.grove(['exec', pod0, '--', 'hostname']);
    expect(hostname.stdout.trim(), hostname.stderr).toBe(pod0);
    const hosts = await cluster.grove(['exec', pod0, '--', 'cat', '/etc/hosts']);
    expect(hosts.stdout).toMatch(new RegExp(`\\t${fqdn(pod0).replaceAll('.', '\\.')}\\t${pod0}\\n`));
    const ip1 = (await cluster.json<{ status: { podIP: string } }>(['get', 'pod', `${sts}-1`])).status.podIP;
    expect(ip1).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    let lookup = '';
    await eventually(async () => {
      const r = await cluster.grove(['exec', pod0, '--', 'busybox', 'nslookup', fqdn(`${sts}-1`)]);
      lookup = `${r.code} ${r.stdout} ${r.stderr}`;
      return r.code === 0 && (r.stdout.split(fqdn(`${sts}-1`))[1] ?? '').includes(ip1);
    }, 30_000, `${sts}-1 resolving to ${ip1} from ${pod0}`).catch(async (err: unknown) => {
      console.log(`last lookup: ${lookup}`);
      console.log((await cluster.grove(['get', 'endpointslices', '-o', 'yaml'])).stdout);
      console.log((await cluster.grove(['exec', pod0, '--', 'cat', '/etc/resolv.conf'])).stdout);
      throw err;
    });

    // Deleted: the same name comes back, on the same node, and reads what the first one wrote.
    const first = (await cluster.pods()).find((p) => p.name === pod0)!;
    const uid = async () => (await cluster.json<{ metadata: { uid: string } }>(['get', 'pod', pod0]).catch(() => undefined))?.metadata.uid;
    const firstUid = await uid();
    expect((await cluster.grove(['delete', 'pod', pod0])).code).toBe(0);
    const again = await eventually(async () => {
      const p: PodJson | undefined = (await cluster.pods()).find((q) => q.name === pod0);
      return p && p.phase === 'Running' && (await uid()) !== firstUid ? p : undefined;
    }, 120_000, `${pod0} back`);
    expect(again.node).toBe(first.node);
    await eventually(async () => (await cluster.grove(['logs', pod0])).stdout.includes(`before: ${pod0}`), 60_000, `the new ${pod0} reading what the first wrote`);
    const spec = await cluster.json<{ spec: { volumes: { persistentVolumeClaim?: { claimName: string } }[] } }>(['get', 'pod', pod0]);
    expect(spec.spec.volumes.map((v) => v.persistentVolumeClaim?.claimName)).toContain(`data-${sts}-0`);

    // Scale down: the highest ordinal goes first; the claims stay.
    expect((await cluster.grove(['scale', `sts/${sts}`, '--replicas', '1'])).code).toBe(0);
    await eventually(async () => (await cluster.pods()).filter((p) => p.name.startsWith(`${sts}-`)).length === 1, 120_000, 'scaled to one');
    const kept = await cluster.json<{ items: unknown[] }>(['get', 'pvc']);
    expect(kept.items).toHaveLength(3);
  }, 480_000);
});
