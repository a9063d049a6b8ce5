/**
 * The read side of the Kubernetes API driven by the real kubectl (issue 14, part A): discovery
 * (`kubectl version`, `api-resources`), OpenAPI (`explain`; kubectl leaves field validation to
 * the server, as with Kubernetes), and the Tables of `kubectl get` with Kubernetes' columns, against a
 * `grove server --tls` with one hollow node (the agent's code over an in-memory runtime, so pods
 * get a node and run). Objects are created with `grove apply`: the write verbs are part B's.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { HollowFleet } from '../../agent/src/hollow/hollow-fleet.js';
import { silentLogger } from '../../src/core/logger.js';
import { TestCluster } from '../support/cluster.js';
import { eventually } from '../support/grove-cli.js';
import { kubectlWith, writeKubeconfig, type Kubectl } from '../support/kubectl.js';
import { describeWith } from '../support/prereq.js';

const MANIFESTS = `apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, labels: {tier: front}}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: main, image: hollow.invalid/web:1, command: [sleep, "3600"]}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: cart, namespace: shop, labels: {tier: back}}
spec:
  selector: {matchLabels: {app: cart}}
  template:
    metadata: {labels: {app: cart}}
    spec: {containers: [{name: main, image: hollow.invalid/cart:1, command: [sleep, "3600"]}]}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent, namespace: shop}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec: {containers: [{name: main, image: hollow.invalid/agent:1, command: [sleep, "3600"]}]}
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: tick}
spec:
  schedule: "0 3 * * *"
  jobTemplate:
    spec:
      template:
        spec: {restartPolicy: Never, containers: [{name: main, image: hollow.invalid/tick:1, command: ["true"]}]}
---
apiVersion: batch/v1
kind: Job
metadata: {name: once}
spec:
  template:
    spec: {restartPolicy: Never, containers: [{name: main, image: hollow.invalid/once:1, command: [sleep, "3600"]}]}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data: {mode: edge, level: "3"}
---
apiVersion: v1
kind: Secret
metadata: {name: creds}
stringData: {password: hunter2}
`;

/** A Deployment with one unknown field, for client-side validation. */
const TYPO = `apiVersion: apps/v1
kind: Deployment
metadata: {name: typo}
spec:
  replicas: 1
  replicaz: 3
  selector: {matchLabels: {app: typo}}
  template:
    metadata: {labels: {app: typo}}
    spec: {containers: [{name: main, image: nginx:1.27, resources: {limits: {memory: 64Mi, cpu: 0.5}}}]}
`;

/** A table's lines as cells (kubectl separates columns by at least two spaces... or one before a wide cell). */
function tables(stdout: string): string[][][] {
  return stdout
    .trim()
    .split(/\n\s*\n/)
    .map((block) => block.split('\n').map((line) => line.trim().split(/\s{2,}/)));
}

describeWith(['kubectl'], 'kubectl reads Grove: discovery, explain, validation, tables', () => {
  let cluster: TestCluster;
  let fleet: HollowFleet | undefined;
  let home: string;
  let kubectl: Kubectl;

  async function ok(...args: string[]): Promise<string> {
    const r = await kubectl(...args);
    expect(r.code, `kubectl ${args.join(' ')}: ${r.stderr}`).toBe(0);
    return r.stdout;
  }

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'grove-kubectl-read-'));
    cluster = await TestCluster.create({ extraArgs: ['--tls'] });
    await cluster.startServer();
    kubectl = kubectlWith(home, await writeKubeconfig(home, cluster.serverDir));
    fleet = new HollowFleet({ serverUrl: cluster.apiUrl, token: await cluster.token(), count: 1, namePrefix: `read-${process.pid}`, logger: silentLogger(), heartbeatSeconds: 2 });
    const joins = await fleet.joinAndStart();
    expect(joins.filter((j) => j.error)).toEqual([]);
    await cluster.waitForNodesReady(fleet.nodes.map((n) => n.name), 60_000);
    const file = join(home, 'app.yaml');
    await writeFile(file, MANIFESTS);
    const applied = await cluster.grove(['apply', '-f', file]);
    expect(applied.code, applied.stderr).toBe(0);
  }, 120_000);

  afterAll(async () => {
    await fleet?.stop();
    await cluster?.destroy();
    if (home) await rm(home, { recursive: true, force: true });
  }, 60_000);

  it('kubectl version shows the server as Kubernetes 1.32 with Grove in the build metadata', async () => {
    expect(await ok('version')).toMatch(/^Server Version: v1\.32\.0\+grove\.\d+\.\d+\.\d+/m);
  });

  it('kubectl api-resources lists every kind with its short names, group and scope', async () => {
    const rows = (await ok('api-resources', '--no-headers')).trim().split('\n').map((l) => l.trim().split(/\s+/));
    // The core kinds come first; metrics.k8s.io's nodes and pods (kubectl top) follow under the same names.
    const byName = new Map<string, string>();
    for (const r of rows) if (!byName.has(r[0]!)) byName.set(r[0]!, r.slice(1).join(' '));
    expect(rows.map((r) => r.join(' '))).toEqual(expect.arrayContaining(['nodes metrics.k8s.io/v1beta1 false NodeMetrics', 'pods metrics.k8s.io/v1beta1 true PodMetrics']));
    expect(byName.get('deployments')).toBe('deploy apps/v1 true Deployment');
    expect(byName.get('daemonsets')).toBe('ds apps/v1 true DaemonSet');
    expect(byName.get('replicasets')).toBe('rs apps/v1 true ReplicaSet');
    expect(byName.get('pods')).toBe('po v1 true Pod');
    expect(byName.get('nodes')).toBe('no v1 false Node');
    expect(byName.get('namespaces')).toBe('ns v1 false Namespace');
    expect(byName.get('configmaps')).toBe('cm v1 true ConfigMap');
    expect(byName.get('cronjobs')).toBe('cj batch/v1 true CronJob');
    expect(byName.get('jobs')).toBe('batch/v1 true Job');
    expect(byName.get('secrets')).toBe('v1 true Secret');
    // Verbs are honest: nodes cannot be created through the API (they join).
    expect(await ok('api-resources', '--verbs=create', '-o', 'name')).not.toMatch(/^nodes$/m);
  });

  it('kubectl explain reads the OpenAPI v3 documents', async () => {
    const replicas = await ok('explain', 'deployment.spec.replicas');
    expect(replicas).toContain('GROUP:      apps');
    expect(replicas).toContain('KIND:       Deployment');
    expect(replicas).toContain('FIELD: replicas <integer>');
    expect(replicas).toContain('Number of desired pods. Defaults to 1.');
    const containers = await ok('explain', 'pod.spec.containers');
    expect(containers).toContain('FIELD: containers <[]Container>');
    expect(containers).toMatch(/^ {2}image\t<string> -required-$/m);
    expect((await kubectl('explain', 'deployment.spec.nope')).stderr).toContain('field "nope" does not exist');
  });

  it('kubectl leaves field validation to the server, as against Kubernetes: --dry-run=server names an unknown field, nothing stored', async () => {
    const file = join(home, 'typo.yaml');
    await writeFile(file, TYPO);
    const bad = await kubectl('apply', '--dry-run=server', '-f', file);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('unknown field "spec.replicaz"');
    await writeFile(file, TYPO.replace('  replicaz: 3\n', ''));
    expect(await ok('apply', '--dry-run=server', '-f', file)).toContain('deployment.apps/typo created (server dry run)');
    expect((await kubectl('get', 'deploy', 'typo')).stderr).toContain('NotFound');
  });

  it('kubectl get prints each kind with the columns Kubernetes gives it', async () => {
    // Wait for the controllers and the node: web's pods Running, the job's pod made.
    await eventually(async () => (await ok('get', 'pods', '-l', 'app=web', '--no-headers')).split('\n').filter((l) => l.includes('Running')).length === 2, 60_000, "web's pods Running");
    const out = await ok('get', 'pods,deploy,ds,rs,jobs,cronjobs,cm,secrets,ns,nodes');
    const headers = new Map(tables(out).map((t) => [t[1]![0]!.split('/')[0], t[0]]));
    expect(headers.get('pod')).toEqual(['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE']);
    expect(headers.get('deployment.apps')).toEqual(['NAME', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'AGE']);
    expect(headers.get('replicaset.apps')).toEqual(['NAME', 'DESIRED', 'CURRENT', 'READY', 'AGE']);
    expect(headers.get('job.batch')).toEqual(['NAME', 'STATUS', 'COMPLETIONS', 'DURATION', 'AGE']);
    expect(headers.get('cronjob.batch')).toEqual(['NAME', 'SCHEDULE', 'TIMEZONE', 'SUSPEND', 'ACTIVE', 'LAST SCHEDULE', 'AGE']);
    expect(headers.get('configmap')).toEqual(['NAME', 'DATA', 'AGE']);
    expect(headers.get('secret')).toEqual(['NAME', 'TYPE', 'DATA', 'AGE']);
    expect(headers.get('namespace')).toEqual(['NAME', 'STATUS', 'AGE']);
    expect(headers.get('node')).toEqual(['NAME', 'STATUS', 'ROLES', 'AGE', 'VERSION']);
    expect(out).toMatch(/^deployment\.apps\/web\s+2\/2\s+2\s+2\s+\d+s$/m);
    expect(out).toMatch(/^configmap\/settings\s+2\s+\d+s$/m);
    expect(out).toMatch(/^secret\/creds\s+Opaque\s+1\s+\d+s$/m);
    expect(out).toMatch(/^cronjob\.batch\/tick\s+0 3 \* \* \*\s+<none>\s+False\s+0\s+<none>\s+\d+s$/m);
    expect(out).toMatch(new RegExp(`^node/${fleet!.nodes[0]!.name}\\s+Ready\\s+<none>\\s+\\d+s\\s+hollow@`, 'm'));
  });

  it('kubectl get -o wide adds the priority-1 columns; -A the namespace; -n and -l select', async () => {
    const [pods] = tables(await ok('get', 'pods', '-o', 'wide', '-l', 'app=web'));
    expect(pods![0]).toEqual(['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE', 'IP', 'NODE', 'NOMINATED NODE', 'READINESS GATES']);
    expect(pods!.slice(1).every((row) => row[6] === fleet!.nodes[0]!.name && row[7] === '<none>')).toBe(true);
    const [deploys] = tables(await ok('get', 'deploy', '-A', '-o', 'wide'));
    expect(deploys![0]).toEqual(['NAMESPACE', 'NAME', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'AGE', 'CONTAINERS', 'IMAGES', 'SELECTOR']);
    expect(deploys!.slice(1).map((r) => `${r[0]}/${r[1]}`)).toEqual(['default/web', 'shop/cart']);
    expect(deploys![1]!.slice(6)).toEqual(['main', 'hollow.invalid/web:1', 'app=web']);
    expect(tables(await ok('get', 'deploy', '-n', 'shop'))[0]!.slice(1).map((r) => r[0])).toEqual(['cart']);
    expect(tables(await ok('get', 'deploy', '-A', '-l', 'tier=front'))[0]!.slice(1).map((r) => r[1])).toEqual(['web']);
    const [nodes] = tables(await ok('get', 'nodes', '-o', 'wide'));
    expect(nodes![0]).toEqual(['NAME', 'STATUS', 'ROLES', 'AGE', 'VERSION', 'INTERNAL-IP', 'EXTERNAL-IP', 'OS-IMAGE', 'KERNEL-VERSION', 'CONTAINER-RUNTIME']);
    // Every node has a pod CIDR of its own from the cluster CIDR (issue 15), distinct.
    const cidrs = (await ok('get', 'nodes', '-o', 'jsonpath={.items[*].spec.podCIDR}')).trim().split(/\s+/);
    expect(cidrs).toHaveLength(nodes!.length - 1);
    expect(cidrs.every((c) => /^10\.42\.\d{1,3}\.0\/24$/.test(c))).toBe(true);
    expect(new Set(cidrs).size).toBe(cidrs.length);
  });

  it('kubectl get all lists the workloads and pods of the "all" category', async () => {
    const out = await ok('get', 'all', '-A');
    for (const name of ['pod/web-', 'deployment.apps/web', 'deployment.apps/cart', 'replicaset.apps/web-', 'daemonset.apps/agent', 'job.batch/once', 'cronjob.batch/tick']) expect(out).toContain(name);
    expect(out).not.toContain('configmap/');
  });

  it('kubectl get -o yaml / -o json print the objects themselves', async () => {
    const web = JSON.parse(await ok('get', 'deploy', 'web', '-o', 'json')) as { kind: string; metadata: { name: string; labels: Record<string, string> }; spec: { replicas: number } };
    expect(web).toMatchObject({ kind: 'Deployment', metadata: { name: 'web', labels: { tier: 'front' } }, spec: { replicas: 2 } });
    const yaml = await ok('get', 'cm', 'settings', '-o', 'yaml');
    expect(yaml).toMatch(/^kind: ConfigMap$/m);
    expect(yaml).toMatch(/^ {2}mode: edge$/m);
    const list = JSON.parse(await ok('get', 'cm,secrets', '-o', 'json')) as { kind: string; items: { kind: string }[] };
    expect(list.kind).toBe('List');
    expect(list.items.map((i) => i.kind).sort()).toEqual(['ConfigMap', 'Secret']);
  });
});
