/**
 * Issue 14's acceptance test: the real kubectl on PATH drives a `grove server --tls` with two
 * nodes (node-a, node-b: agents of their own, joined over MQTT as boards are) through a
 * kubeconfig printed by `grove kubeconfig`, and every verb of the issue's list is asserted on
 * its output and exit code, one `it` per verb group. The workload `web` runs on node-a; exec,
 * logs, cp, port-forward and drain act on node-b's pods. Real containers (busybox from the test
 * registry, runc). Without kubectl the suite fails under CI=true (describeWith). With
 * ACC_DUMP=FILE every kubectl command and what it printed is appended to FILE, to read them.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { TestCluster } from '../support/cluster.js';
import { eventually } from '../support/grove-cli.js';
import { buildBusyboxImage, pushImage } from '../support/image-builder.js';
import { runKubectl, startKubectl, type KubectlProcess, type KubectlResult } from '../support/kubectl.js';
import { startOneNodeCluster, type OneNodeCluster } from '../support/one-node.js';
import { freePort } from '../support/ports.js';
import { describeWith } from '../support/prereq.js';

const SLEEPER = `[sh, -c, "trap 'exit 0' TERM; while true; do sleep 1; done"]`;

describeWith(['root', 'runc', 'registry', 'shim', 'kubectl'], 'kubectl acceptance (issue 14)', () => {
  let env: OneNodeCluster | undefined;
  let cluster: TestCluster;
  let home: string;
  const kubeconfigs = { admin: '', viewer: '' };
  const started: KubectlProcess[] = [];
  const ns = `acc-${randomBytes(3).toString('hex')}`;
  let appFile = '';

  const kubectl = async (args: string[], options: { as?: keyof typeof kubeconfigs; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<KubectlResult> => {
    const r = await runKubectl(kubeconfigs[options.as ?? 'admin'], home, args, options.env, options.timeoutMs);
    if (process.env.ACC_DUMP) await appendFile(process.env.ACC_DUMP, `\n$ kubectl ${args.join(' ')}  [${r.code}]\n${r.stdout}${r.stderr}`);
    return r;
  };

  /** kubectl that must exit 0; its stdout. */
  async function ok(...args: string[]): Promise<string> {
    const r = await kubectl(args);
    expect(r.code, `kubectl ${args.join(' ')}:\n${r.stderr}`).toBe(0);
    return r.stdout;
  }

  /** kubectl left running; stopped by the test or in afterAll. */
  function start(...args: string[]): KubectlProcess {
    const p = startKubectl(kubeconfigs.admin, home, args);
    started.push(p);
    return p;
  }

  /** Waits until `p` printed something matching `pattern`; a failure shows what it printed. */
  async function until(p: KubectlProcess, pattern: RegExp, what: string, timeoutMs = 60_000): Promise<void> {
    await eventually(async () => pattern.test(p.out()), timeoutMs, what).catch((err: unknown) => {
      throw new Error(`${(err as Error).message}\nstdout:\n${p.out().slice(-2000)}\nstderr:\n${p.err().slice(-2000)}`);
    });
  }

  /** The names of the pods of `app` in phase Running (kubectl's own jsonpath). */
  async function running(app: string): Promise<string[]> {
    const out = await ok('get', 'pods', '-n', ns, '-l', `app=${app}`, '-o', 'jsonpath={range .items[?(@.status.phase=="Running")]}{.metadata.name}{"\\n"}{end}');
    return out.split('\n').filter(Boolean);
  }

  /** Waits for `count` Running pods of `app` (none being deleted), their names. */
  const runningPods = (app: string, count: number, timeoutMs = 90_000): Promise<string[]> =>
    eventually(async () => {
      const names = await running(app);
      const deleting = await ok('get', 'pods', '-n', ns, '-l', `app=${app}`, '-o', 'jsonpath={.items[*].metadata.deletionTimestamp}');
      return names.length === count && deleting.trim() === '' ? names : undefined;
    }, timeoutMs, `${count} running pods of ${app}`);

  const nodeOf = (pod: string) => ok('get', 'pod', '-n', ns, pod, '-o', 'jsonpath={.spec.nodeName}');

  const image = (tag: string) => `${env!.registry.host}/test/busybox:${tag}`;

  /** A one-replica Deployment `name` pinned to `node`, its container `main` running `command` (YAML flow). */
  const deployment = (name: string, node: string, command: string, extra: { labels?: string; env?: string } = {}) => `apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}, namespace: ${ns}${extra.labels ? `, labels: {${extra.labels}}` : ''}}
spec:
  replicas: 1
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}${extra.labels ? `, ${extra.labels}` : ''}}}
    spec:
      terminationGracePeriodSeconds: 1
      nodeSelector: {kubernetes.io/hostname: ${node}}
      containers: [{name: main, image: ${image('1')}, command: ${command}${extra.env ? `, env: ${extra.env}` : ''}}]
`;

  /**
   * The manifest `delete -f` removes again: web on node-a (MODE=`mode`), remote (httpd and a
   * tick a second) and crash (exits after 2 s) on node-b, a DaemonSet, a Job, a suspended CronJob,
   * a ConfigMap.
   */
  const app = (mode: string) =>
    [
      `apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: ${ns}, labels: {tier: acc}}
data: {mode: edge}
`,
      deployment('web', 'node-a', SLEEPER, { labels: 'tier: acc', env: `[{name: MODE, value: ${mode}}]` }),
      deployment('remote', 'node-b', `[sh, -c, "trap 'exit 0' TERM; mkdir -p /www; echo served-by-node-b > /www/index.html; httpd -p 8080 -h /www; i=0; while true; do echo tick $i; i=$((i+1)); sleep 1; done"]`),
      deployment('crash', 'node-b', '[sh, -c, "echo run-$(cat /proc/sys/kernel/random/uuid); sleep 2; exit 1"]'),
      `apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agentd, namespace: ${ns}}
spec:
  selector: {matchLabels: {app: agentd}}
  template:
    metadata: {labels: {app: agentd}}
    spec:
      terminationGracePeriodSeconds: 1
      containers: [{name: main, image: ${image('1')}, command: ${SLEEPER}}]
`,
      `apiVersion: batch/v1
kind: Job
metadata: {name: once, namespace: ${ns}}
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{name: main, image: ${image('1')}, command: [sh, -c, "echo done"]}]
`,
      `apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly, namespace: ${ns}}
spec:
  schedule: "0 3 * * *"
  suspend: true
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          containers: [{name: main, image: ${image('1')}, command: [sh, -c, "echo nightly"]}]
`,
    ].join('---\n');

  beforeAll(async () => {
    env = await startOneNodeCluster('grove-kubectl-acc-', 'node-a', { extraArgs: ['--tls'], env: { GROVE_RESTART_BACKOFF: '1s' } });
    cluster = env.cluster;
    home = env.scratch;
    // A second tag of the same image, for `set image` and `rollout undo`.
    await pushImage(env.registry.url, 'test/busybox', '2', await buildBusyboxImage());
    await cluster.startAgent('node-b', { token: await cluster.token() });
    await cluster.waitForNodesReady(['node-a', 'node-b']);
    // The kubeconfigs come from the real CLI, as a user gets them.
    const admin = await cluster.grove(['kubeconfig']);
    expect(admin.code, admin.stderr).toBe(0);
    kubeconfigs.admin = join(home, 'admin.kubeconfig');
    await writeFile(kubeconfigs.admin, admin.stdout, { mode: 0o600 });
    const user = await cluster.grove(['user', 'create', 'viewer', '--role', 'view']);
    expect(user.code, user.stderr).toBe(0);
    const viewer = await cluster.grove(['kubeconfig', '--user', 'viewer']);
    expect(viewer.code, viewer.stderr).toBe(0);
    kubeconfigs.viewer = join(home, 'viewer.kubeconfig');
    await writeFile(kubeconfigs.viewer, viewer.stdout, { mode: 0o600 });
    appFile = join(home, 'app.yaml');
  }, 240_000);

  afterAll(async () => {
    for (const p of started) await p.stop();
    await env?.destroy();
  }, 60_000);

  it('kubectl version, api-resources, explain deployment.spec.replicas, completion bash', async () => {
    const version = await ok('version');
    expect(version).toMatch(/^Client Version: v1\.32\./m);
    expect(version).toMatch(/^Server Version: v1\.32\.0\+grove\.\S+$/m);
    const resources = await ok('api-resources');
    expect(resources).toMatch(/^NAME\s+SHORTNAMES\s+APIVERSION\s+NAMESPACED\s+KIND/);
    for (const row of [/^pods\s+po\s+v1\s+true\s+Pod/m, /^deployments\s+deploy\s+apps\/v1\s+true\s+Deployment/m, /^nodes\s+no\s+v1\s+false\s+Node/m, /^events\s+ev\s+v1\s+true\s+Event/m, /^cronjobs\s+cj\s+batch\/v1\s+true\s+CronJob/m]) {
      expect(resources).toMatch(row);
    }
    const explain = await ok('explain', 'deployment.spec.replicas');
    expect(explain).toMatch(/^GROUP:\s+apps$/m);
    expect(explain).toMatch(/^KIND:\s+Deployment$/m);
    expect(explain).toMatch(/^FIELD: replicas <integer>$/m);
    const completion = await ok('completion', 'bash');
    expect(completion).toContain('__start_kubectl');
    const noShell = await kubectl(['completion', 'fish-and-chips']);
    expect(noShell.code).toBe(1);
  });

  it('kubectl create namespace, apply -f (created, unchanged, configured), diff, apply --dry-run=server, apply --server-side', async () => {
    expect(await ok('create', 'namespace', ns)).toBe(`namespace/${ns} created\n`);
    await writeFile(appFile, app('v1'));
    const created = await ok('apply', '-f', appFile);
    expect(created).toBe(
      [`configmap/settings created`, `deployment.apps/web created`, `deployment.apps/remote created`, `deployment.apps/crash created`, `daemonset.apps/agentd created`, `job.batch/once created`, `cronjob.batch/nightly created`, ''].join('\n'),
    );
    expect(await ok('apply', '-f', appFile)).toMatch(/^(\S+ unchanged\n){7}$/);
    // diff: exit 0 when the file matches, 1 with the difference when it does not.
    const same = await kubectl(['diff', '-f', appFile]);
    expect(same.code, same.stderr).toBe(0);
    expect(same.stdout).toBe('');
    await writeFile(appFile, app('v2'));
    const diff = await kubectl(['diff', '-f', appFile]);
    expect(diff.code, diff.stderr).toBe(1);
    expect(diff.stdout).toMatch(/^-\s+value: v1$/m);
    expect(diff.stdout).toMatch(/^\+\s+value: v2$/m);
    const dry = await ok('apply', '--dry-run=server', '-f', appFile);
    expect(dry).toContain('deployment.apps/web configured (server dry run)\n');
    expect(await ok('get', 'deploy', 'web', '-n', ns, '-o', 'jsonpath={.spec.template.spec.containers[0].env[0].value}')).toBe('v1');
    const configured = await ok('apply', '-f', appFile);
    expect(configured).toContain('deployment.apps/web configured\n');
    expect(configured).toContain('configmap/settings unchanged\n');
    expect(await ok('get', 'deploy', 'web', '-n', ns, '-o', 'jsonpath={.spec.template.spec.containers[0].env[0].value}')).toBe('v2');
    const ssa = join(home, 'ssa.yaml');
    await writeFile(ssa, `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ssa, namespace: ${ns}}\ndata: {owner: kubectl}\n`);
    expect(await ok('apply', '--server-side', '-f', ssa)).toBe('configmap/ssa serverside-applied\n');
    expect(await ok('get', 'cm', 'ssa', '-n', ns, '-o', 'jsonpath={.metadata.managedFields[0].manager}/{.metadata.managedFields[0].operation}')).toBe('kubectl/Apply');
    expect(await ok('delete', '-f', ssa)).toBe('configmap "ssa" deleted\n');
  }, 60_000);

  it('kubectl create secret generic, create configmap --from-file', async () => {
    expect(await ok('create', 'secret', 'generic', 'creds', '-n', ns, '--from-literal=user=admin', '--from-literal=pass=s3cret')).toBe('secret/creds created\n');
    expect(Buffer.from(await ok('get', 'secret', 'creds', '-n', ns, '-o', 'jsonpath={.data.pass}'), 'base64').toString()).toBe('s3cret');
    const conf = join(home, 'app.conf');
    await writeFile(conf, 'listen 8080\n');
    expect(await ok('create', 'configmap', 'app-conf', '-n', ns, `--from-file=${conf}`)).toBe('configmap/app-conf created\n');
    expect(await ok('get', 'cm', 'app-conf', '-n', ns, '-o', "jsonpath={.data['app\\.conf']}")).toBe('listen 8080\n');
    const again = await kubectl(['create', 'secret', 'generic', 'creds', '-n', ns, '--from-literal=a=b']);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('secrets "creds" already exists');
  });

  it('kubectl scale deploy --replicas; get -w sees the new pod become Running', async () => {
    // The apply before left a rollout going: the pod to keep is the one it ends with.
    const rolled = await kubectl(['rollout', 'status', 'deploy/web', '-n', ns, '--timeout=90s'], { timeoutMs: 120_000 });
    expect(rolled.code, rolled.stderr).toBe(0);
    const [first] = await runningPods('web', 1);
    const watch = start('get', 'pods', '-n', ns, '-l', 'app=web', '-w', '-v=6');
    // -v=6 logs each request once its answer starts: the watch is open when its GET shows.
    await eventually(async () => /GET \S+\/pods\?\S*watch=true\S* 200 OK/.test(watch.err()), 20_000, 'the watch open');
    expect(await ok('scale', 'deploy', 'web', '-n', ns, '--replicas=2')).toBe('deployment.apps/web scaled\n');
    await until(watch, new RegExp(`^(?!${first}\\s)web-\\S+\\s+1/1\\s+Running\\s`, 'm'), 'a new web pod Running in the watch');
    expect(watch.out()).toMatch(/^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE/);
    await watch.stop();
    if (process.env.ACC_DUMP) await appendFile(process.env.ACC_DUMP, `\n$ kubectl get pods -w\n${watch.out()}`);
    expect(await runningPods('web', 2)).toContain(first);
    expect(await ok('get', 'deploy', 'web', '-n', ns, '-o', 'jsonpath={.spec.replicas}')).toBe('2');
  }, 120_000);

  it('kubectl get pods,deploy,ds,rs,jobs,cronjobs,cm,secrets,ns,nodes,events: table, -o wide, -o yaml, -o jsonpath, -l, -n, -A', async () => {
    await eventually(async () => (await ok('get', 'job', 'once', '-n', ns, '-o', 'jsonpath={.status.succeeded}')) === '1', 90_000, 'job once succeeded');
    await runningPods('remote', 1);
    await eventually(async () => (await running('agentd')).length === 2, 90_000, 'agentd on both nodes');
    const kinds = 'pods,deploy,ds,rs,jobs,cronjobs,cm,secrets,ns,nodes,events';
    const table = await ok('get', kinds, '-n', ns);
    for (const line of [
      /^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE/m,
      /^pod\/web-\S+\s+1\/1\s+Running\s+0\s+\S+/m,
      /^deployment\.apps\/web\s+2\/2\s+2\s+2\s+\S+/m,
      /^daemonset\.apps\/agentd\s+2\s+2\s+2\s+2\s+2\s+<none>\s+\S+/m,
      /^replicaset\.apps\/web-\S+\s+2\s+2\s+2\s+\S+/m,
      /^job\.batch\/once\s+Complete\s+1\/1\s+\S+\s+\S+/m,
      /^cronjob\.batch\/nightly\s+0 3 \* \* \*\s+<none>\s+True\s+0\s+<none>\s+\S+/m,
      /^configmap\/settings\s+1\s+\S+/m,
      /^secret\/creds\s+Opaque\s+2\s+\S+/m,
      new RegExp(`^namespace/${ns}\\s+Active\\s+\\S+`, 'm'),
      /^node\/node-a\s+Ready\s+\S+\s+\S+\s+\S+/m,
      /^node\/node-b\s+Ready\s+/m,
    ]) {
      expect(table).toMatch(line);
    }
    const wide = await ok('get', 'pods,nodes', '-n', ns, '-o', 'wide');
    expect(wide).toMatch(/^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE\s+NOMINATED NODE\s+READINESS GATES/m);
    expect(wide).toMatch(/^pod\/web-\S+\s+1\/1\s+Running\s+0\s+\S+\s+\d+\.\d+\.\d+\.\d+\s+node-a\s+<none>\s+<none>/m);
    expect(wide).toMatch(/^NAME\s+STATUS\s+ROLES\s+AGE\s+VERSION\s+INTERNAL-IP\s+EXTERNAL-IP\s+OS-IMAGE\s+KERNEL-VERSION\s+CONTAINER-RUNTIME/m);
    const yaml = await ok('get', kinds, '-n', ns, '-o', 'yaml');
    expect(yaml).toMatch(/^kind: List$/m);
    for (const kind of ['Pod', 'Deployment', 'DaemonSet', 'ReplicaSet', 'Job', 'CronJob', 'ConfigMap', 'Secret', 'Namespace', 'Node', 'Event']) {
      expect(yaml, kind).toMatch(new RegExp(`^  kind: ${kind}$`, 'm'));
    }
    const listed = await ok('get', kinds, '-n', ns, '-o', 'jsonpath={range .items[*]}{.kind}{"\\n"}{end}');
    expect(new Set(listed.trim().split('\n'))).toEqual(new Set(['Pod', 'Deployment', 'DaemonSet', 'ReplicaSet', 'Job', 'CronJob', 'ConfigMap', 'Secret', 'Namespace', 'Node', 'Event']));
    // -l: only what carries the label (the ConfigMap, the Deployment, its ReplicaSet and pods).
    const labelled = await ok('get', 'pods,deploy,cm', '-n', ns, '-l', 'tier=acc', '-o', 'name');
    expect(labelled.trim().split('\n').map((l) => l.replace(/-[a-z0-9]+(-[a-z0-9]+)?$/, '')).sort()).toEqual(['configmap/settings', 'deployment.apps/web', 'pod/web', 'pod/web']);
    // -n: nothing of ours in default; -A: the NAMESPACE column with ours.
    const inDefault = await kubectl(['get', 'pods', '-n', 'default']);
    expect(inDefault.code).toBe(0);
    expect(inDefault.stderr).toBe('No resources found in default namespace.\n');
    const all = await ok('get', 'pods', '-A');
    expect(all).toMatch(/^NAMESPACE\s+NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE/);
    expect(all).toMatch(new RegExp(`^${ns}\\s+remote-\\S+\\s+1/1\\s+Running\\s`, 'm'));
    const reasons = (await ok('get', 'events', '-n', ns, '-o', 'jsonpath={.items[*].reason}')).split(' ');
    expect(reasons).toEqual(expect.arrayContaining(['ScalingReplicaSet', 'SuccessfulCreate', 'Scheduled', 'Started', 'Completed']));
    // The events' table: Kubernetes' columns are another part of issue 14 (its Table has NAME
    // and AGE until that part is merged); kubectl prints it either way.
    const events = await ok('get', 'events', '-n', ns);
    expect(events).toMatch(/^(NAME\s+AGE|LAST SEEN\s+TYPE\s+REASON\s+OBJECT\s+MESSAGE)\s*\n/);
    expect(events.trim().split('\n').length).toBeGreaterThan(reasons.length / 2);
  }, 180_000);

  it('kubectl describe pod|deploy|node, with their events', async () => {
    const [pod] = await running('web');
    const describedPod = await ok('describe', 'pod', '-n', ns, pod!);
    expect(describedPod).toMatch(new RegExp(`^Name:\\s+${pod}$`, 'm'));
    expect(describedPod).toMatch(/^Node:\s+node-a\/\S+$/m);
    expect(describedPod).toMatch(/^Status:\s+Running$/m);
    expect(describedPod).toMatch(/^Controlled By:\s+ReplicaSet\/web-\S+$/m);
    expect(describedPod).toMatch(/^Events:\n\s+Type\s+Reason\s+Age\s+From\s+Message/m);
    for (const reason of ['Scheduled', 'Pulled', 'Created', 'Started']) expect(describedPod).toMatch(new RegExp(`^\\s+Normal\\s+${reason}\\s`, 'm'));
    const deploy = await ok('describe', 'deploy', 'web', '-n', ns);
    expect(deploy).toMatch(/^Replicas:\s+2 desired \| 2 updated \| 2 total \| 2 available \| 0 unavailable$/m);
    expect(deploy).toMatch(/^\s+Normal\s+ScalingReplicaSet\s+.*Scaled up replica set web-\S+ from 1 to 2/m);
    const node = await ok('describe', 'node', 'node-b');
    expect(node).toMatch(/^Name:\s+node-b$/m);
    expect(node).toMatch(/^\s+Ready\s+True\s/m);
    expect(node).toMatch(new RegExp(`^\\s+${ns}\\s+remote-\\S+\\s`, 'm'));
    expect(node).toMatch(/^\s+Normal\s+NodeReady\s/m);
    // Every condition has a heartbeat time (TargetApplied too), none shown as year 1.
    expect(node).toMatch(/^\s+TargetApplied\s+True\s+\w{3}, \d{2} \w{3} 20\d\d /m);
    expect(node).not.toContain(' 0001 ');
  }, 60_000);

  it('kubectl set image, edit (EDITOR scripted), rollout status|history|undo|restart', async () => {
    const status = () => kubectl(['rollout', 'status', 'deploy/web', '-n', ns, '--timeout=120s'], { timeoutMs: 150_000 });
    const envValue = () => ok('get', 'deploy', 'web', '-n', ns, '-o', 'jsonpath={.spec.template.spec.containers[0].image} {.spec.template.spec.containers[0].env[0].value}');
    expect(await ok('set', 'image', 'deploy/web', '-n', ns, `main=${image('2')}`)).toBe('deployment.apps/web image updated\n');
    let r = await status();
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('deployment "web" successfully rolled out');
    const edit = await kubectl(['edit', 'deploy/web', '-n', ns], { env: { EDITOR: 'sed -i s/value:.v2$/value:\\ edited/', KUBE_EDITOR: '' } });
    expect(edit.code, edit.stderr).toBe(0);
    expect(edit.stdout).toBe('deployment.apps/web edited\n');
    expect(await envValue()).toBe(`${image('2')} edited`);
    r = await status();
    expect(r.code, r.stderr).toBe(0);
    const history = await ok('rollout', 'history', 'deploy/web', '-n', ns);
    expect(history).toMatch(/^REVISION\s+CHANGE-CAUSE$/m);
    const revisions = [...history.matchAll(/^(\d+)\s+<none>$/gm)].map((m) => Number(m[1]));
    // v1, v2 (apply configured), set image, edit.
    expect(revisions).toEqual([1, 2, 3, 4]);
    const third = await ok('rollout', 'history', 'deploy/web', '-n', ns, '--revision=3');
    expect(third).toMatch(/^deployment\.apps\/web with revision #3$/m);
    expect(third).toMatch(new RegExp(`^\\s+Image:\\s+${image('2').replace(/[.]/g, '\\.')}$`, 'm'));
    expect(third).toMatch(/^\s+MODE:\s+v2$/m);
    expect(await ok('rollout', 'undo', 'deploy/web', '-n', ns)).toBe('deployment.apps/web rolled back\n');
    expect(await envValue()).toBe(`${image('2')} v2`);
    r = await status();
    expect(r.code, r.stderr).toBe(0);
    const before = new Set(await running('web'));
    expect(await ok('rollout', 'restart', 'deploy/web', '-n', ns)).toBe('deployment.apps/web restarted\n');
    r = await status();
    expect(r.code, r.stderr).toBe(0);
    expect(await ok('get', 'deploy', 'web', '-n', ns, '-o', "jsonpath={.spec.template.metadata.annotations['kubectl\\.kubernetes\\.io/restartedAt']}")).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    const after = await runningPods('web', 2);
    expect(after.filter((p) => before.has(p))).toEqual([]);
    // A DaemonSet's history is its ControllerRevisions.
    expect(await ok('rollout', 'history', 'ds/agentd', '-n', ns)).toMatch(/^REVISION\s+CHANGE-CAUSE\n1\s+<none>\n/m);
    const dsStatus = await kubectl(['rollout', 'status', 'ds/agentd', '-n', ns, '--timeout=60s'], { timeoutMs: 90_000 });
    expect(dsStatus.code, dsStatus.stderr).toBe(0);
    expect(dsStatus.stdout).toContain('daemon set "agentd" successfully rolled out');
  }, 300_000);

  it('kubectl logs -f and logs --previous, for pods on node-b', async () => {
    const [pod] = await runningPods('remote', 1);
    expect(await nodeOf(pod!)).toBe('node-b');
    const follow = start('logs', '-f', '-n', ns, pod!, '--tail=1');
    await until(follow, /^tick \d+\n/, 'a first tick');
    const first = Number(/^tick (\d+)/m.exec(follow.out())![1]);
    await until(follow, new RegExp(`^tick ${first + 3}$`, 'm'), `tick ${first + 3} while following`);
    expect(follow.proc.exitCode).toBeNull();
    await follow.stop();
    const [crash] = await eventually(async () => {
      const name = await ok('get', 'pods', '-n', ns, '-l', 'app=crash', '-o', 'jsonpath={.items[0].metadata.name} {.items[0].status.containerStatuses[0].restartCount}');
      const [n, restarts] = name.split(' ');
      return Number(restarts) >= 1 ? [n!] : undefined;
    }, 120_000, 'crash restarted');
    const previous = await eventually(async () => {
      const r = await kubectl(['logs', '-n', ns, crash!, '--previous']);
      return r.code === 0 && /^run-/.test(r.stdout) ? r.stdout : undefined;
    }, 60_000, 'a previous log');
    expect(previous).toMatch(/^run-[0-9a-f-]{36}\n$/);
    const none = await kubectl(['logs', '-n', ns, pod!, '--previous']);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('previous terminated container "main" in pod');
  }, 240_000);

  it('kubectl exec -it (through a pty) and exec -- sh -c "exit 3", on node-b', async () => {
    const [pod] = await running('remote');
    const hi = await kubectl(['exec', '-n', ns, pod!, '--', 'echo', 'hi']);
    expect(hi).toMatchObject({ code: 0, stdout: 'hi\n' });
    const three = await kubectl(['exec', '-n', ns, pod!, '--', 'sh', '-c', 'exit 3']);
    expect(three.code, three.stderr).toBe(3);
    // util-linux `script` gives kubectl a terminal, as a user's shell has one. The command sees
    // the client's size from its first instant (three times: it used to race the runtime's resize).
    for (let i = 0; i < 3; i++) {
      const cmd = `stty rows 30 cols 90; kubectl --kubeconfig ${kubeconfigs.admin} exec -it -n ${ns} ${pod} -- sh -c 'tty; stty size; exit 4'`;
      const tty = await promisify(execFile)('script', ['-qec', cmd, '/dev/null'], { env: { ...process.env, HOME: home }, timeout: 60_000 }).then(
        (r) => ({ code: 0, stdout: r.stdout }),
        (err: { code?: number; stdout?: string }) => ({ code: err.code ?? -1, stdout: err.stdout ?? '' }),
      );
      expect(tty.stdout).toMatch(/\/dev\/pts\/\d+/);
      expect(tty.stdout).toContain('30 90');
      expect(tty.code, tty.stdout).toBe(4);
    }
  }, 120_000);

  it('kubectl port-forward and cp, to a pod on node-b', async () => {
    const [pod] = await running('remote');
    const port = await freePort();
    const forward = start('port-forward', '-n', ns, `pod/${pod}`, `${port}:8080`);
    await until(forward, /Forwarding from 127\.0\.0\.1:\d+ -> 8080/, 'port-forward ready', 30_000);
    const res = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(10_000) });
    expect(await res.text()).toBe('served-by-node-b\n');
    await forward.stop();
    const dir = join(home, 'cp');
    await mkdir(dir, { recursive: true });
    const data = Buffer.alloc(64 * 1024);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7919) % 251;
    await writeFile(join(dir, 'blob.bin'), data);
    const up = await kubectl(['cp', join(dir, 'blob.bin'), `${ns}/${pod}:/tmp/blob.bin`]);
    expect(up.code, up.stderr).toBe(0);
    const down = await kubectl(['cp', `${ns}/${pod}:/tmp/blob.bin`, join(dir, 'back.bin')]);
    expect(down.code, down.stderr).toBe(0);
    expect((await readFile(join(dir, 'back.bin'))).equals(data)).toBe(true);
  }, 90_000);

  it('kubectl top nodes|pods', async () => {
    const nodes = await eventually(async () => {
      const r = await kubectl(['top', 'nodes']);
      return r.code === 0 && /^node-b\s/m.test(r.stdout) ? r.stdout : undefined;
    }, 60_000, 'kubectl top nodes');
    expect(nodes).toMatch(/^NAME\s+CPU\(cores\)\s+CPU\(%\)\s+MEMORY\(bytes\)\s+MEMORY\(%\) *\n/);
    expect(nodes).toMatch(/^node-a\s+\d+m\s+\d+%\s+\d+Mi\s+\d+% *$/m);
    expect(nodes).toMatch(/^node-b\s+\d+m\s+\d+%\s+\d+Mi\s+\d+% *$/m);
    const pods = await eventually(async () => {
      const r = await kubectl(['top', 'pods', '-n', ns, '-l', 'app=remote']);
      return r.code === 0 && /^remote-/m.test(r.stdout) ? r.stdout : undefined;
    }, 60_000, 'kubectl top pods');
    expect(pods).toMatch(/^NAME\s+CPU\(cores\)\s+MEMORY\(bytes\) *\nremote-\S+\s+\d+m\s+\d+Mi *\n$/);
  }, 150_000);

  it('kubectl delete pod: its ReplicaSet makes a new one', async () => {
    const before = await runningPods('web', 2);
    expect(await ok('delete', 'pod', '-n', ns, before[0]!)).toBe(`pod "${before[0]}" deleted\n`);
    const after = await runningPods('web', 2);
    expect(after).not.toContain(before[0]);
    expect(after).toContain(before[1]);
  }, 120_000);

  it('kubectl auth can-i for a view user, and what it is then refused', async () => {
    const canI = async (...args: string[]) => (await kubectl(['auth', 'can-i', ...args, '-n', ns], { as: 'viewer' })).stdout.trim();
    expect(await canI('list', 'pods')).toBe('yes');
    expect(await canI('get', 'pods', '--subresource=log')).toBe('yes');
    expect(await canI('create', 'deployments')).toMatch(/^no\b/);
    expect(await canI('get', 'secrets')).toMatch(/^no\b/);
    expect(await canI('create', 'pods', '--subresource=exec')).toMatch(/^no\b/);
    const no = await kubectl(['auth', 'can-i', 'delete', 'pods', '-n', ns], { as: 'viewer' });
    expect(no.code).toBe(1);
    const refused = await kubectl(['scale', 'deploy', 'web', '-n', ns, '--replicas=5'], { as: 'viewer' });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`Error from server (Forbidden): deployments.apps "web" is forbidden: User "viewer" cannot patch resource "deployments/scale" in API group "apps" in the namespace "${ns}"`);
    expect(await ok('get', 'deploy', 'web', '-n', ns, '-o', 'jsonpath={.spec.replicas}')).toBe('2');
  });

  it('kubectl cordon and drain --ignore-daemonsets node-b: its pods are evicted, the DaemonSet pod stays; uncordon', async () => {
    const [remote] = await runningPods('remote', 1);
    expect(await ok('cordon', 'node-b')).toBe('node/node-b cordoned\n');
    expect(await ok('get', 'node', 'node-b', '-o', 'jsonpath={.spec.unschedulable}')).toBe('true');
    const drain = await kubectl(['drain', 'node-b', '--ignore-daemonsets', '--timeout=120s'], { timeoutMs: 150_000 });
    expect(drain.code, drain.stderr).toBe(0);
    expect(drain.stdout).toContain('node/node-b already cordoned\n');
    expect(drain.stderr).toMatch(new RegExp(`Warning: ignoring DaemonSet-managed Pods: ${ns}/agentd-\\S+`));
    expect(drain.stdout).toContain(`evicting pod ${ns}/${remote}\n`);
    expect(drain.stdout).toContain(`pod/${remote} evicted\n`);
    expect(drain.stdout).toMatch(/node\/node-b drained\n$/);
    const onB = await ok('get', 'pods', '-n', ns, '--field-selector', 'spec.nodeName=node-b', '-o', 'jsonpath={range .items[*]}{.metadata.labels.app}{"\\n"}{end}');
    expect(onB.trim().split('\n')).toEqual(['agentd']);
    // remote's new pod waits for node-b (its nodeSelector) and runs there once it is uncordoned.
    expect(await ok('uncordon', 'node-b')).toBe('node/node-b uncordoned\n');
    const [back] = await runningPods('remote', 1);
    expect(back).not.toBe(remote);
    expect(await nodeOf(back!)).toBe('node-b');
  }, 240_000);

  it('kubectl delete -f removes what the file made', async () => {
    const deleted = await ok('delete', '-f', appFile, '--timeout=120s');
    expect(deleted).toBe(
      ['configmap "settings" deleted', 'deployment.apps "web" deleted', 'deployment.apps "remote" deleted', 'deployment.apps "crash" deleted', 'daemonset.apps "agentd" deleted', 'job.batch "once" deleted', 'cronjob.batch "nightly" deleted', ''].join('\n'),
    );
    const gone = await kubectl(['get', 'deploy', 'web', '-n', ns]);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain('deployments.apps "web" not found');
    await eventually(async () => (await ok('get', 'pods', '-n', ns, '-o', 'name')) === '', 90_000, 'the pods gone');
  }, 150_000);
});
