/**
 * Issue 14 part B: the real kubectl (v1.32 on PATH) writes through a real `grove server --tls`
 * (no node: pods stay Pending, which writing does not need): client-side and server-side apply,
 * diff, dry runs, create/replace/edit, set image, scale, label/annotate, the three patch types,
 * delete by file and by label, secrets and config maps from literals and files, and bad input.
 * Assertions are on kubectl's own output and exit codes.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { eventually } from '../support/grove-cli.js';
import { runKubectl, writeKubeconfig, type KubectlResult } from '../support/kubectl.js';
import { LoggedServer } from '../support/logged-server.js';
import { describeWith } from '../support/prereq.js';

const deployment = (image: string, replicas = 1, extra = '') => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: ${replicas}
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: main
        image: ${image}
        env: [{name: MODE, value: edge}]${extra}
`;

describeWith(['kubectl'], 'kubectl writes: apply, patch, edit, scale, delete', () => {
  let dir: string;
  let server: LoggedServer;
  let kubeconfig: string;

  const kubectl = (args: string[], env: NodeJS.ProcessEnv = {}): Promise<KubectlResult> => runKubectl(kubeconfig, dir, args, env);

  /** kubectl that must succeed; its stdout. */
  async function ok(...args: string[]): Promise<string> {
    const r = await kubectl(args);
    expect(r.code, `kubectl ${args.join(' ')}: ${r.stderr}`).toBe(0);
    return r.stdout;
  }

  async function file(name: string, text: string): Promise<string> {
    const path = join(dir, name);
    await writeFile(path, text);
    return path;
  }

  const jsonpath = (what: string, path: string) => ok('get', what, '-o', `jsonpath=${path}`);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'grove-kubectl-write-'));
    server = await LoggedServer.create(join(dir, 'data'), join(dir, 'server.log'));
    await server.start({ GROVE_TLS: 'true' });
    kubeconfig = await writeKubeconfig(dir, join(dir, 'data'), 'default');
  }, 60_000);

  afterAll(async () => {
    await server?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('apply -f: created, unchanged, configured; diff; apply --dry-run=server changes nothing', async () => {
    const v1 = await file('web.yaml', deployment('nginx:1.27'));
    expect(await ok('apply', '-f', v1)).toBe('deployment.apps/web created\n');
    expect(await ok('apply', '-f', v1)).toBe('deployment.apps/web unchanged\n');
    const v2 = await file('web.yaml', deployment('nginx:1.28'));
    const diff = await kubectl(['diff', '-f', v2]);
    expect(diff.code, diff.stderr).toBe(1); // kubectl diff: 1 = differences found
    expect(diff.stdout).toMatch(/-\s+image: nginx:1\.27/);
    expect(diff.stdout).toMatch(/\+\s+image: nginx:1\.28/);
    expect(await ok('apply', '--dry-run=server', '-f', v2)).toBe('deployment.apps/web configured (server dry run)\n');
    expect(await jsonpath('deploy/web', '{.spec.template.spec.containers[0].image}')).toBe('nginx:1.27');
    expect(await ok('apply', '-f', v2)).toBe('deployment.apps/web configured\n');
    expect(await jsonpath('deploy/web', '{.spec.template.spec.containers[0].image}')).toBe('nginx:1.28');
    // The three-way merge removes what the file no longer says (the env list) and keeps the rest.
    const v3 = await file('web.yaml', deployment('nginx:1.28').replace(/\n\s+env: .*\n/, '\n'));
    expect(await ok('apply', '-f', v3)).toBe('deployment.apps/web configured\n');
    expect(await jsonpath('deploy/web', '{.spec.template.spec.containers[0].env}')).toBe('');
    expect(await jsonpath('deploy/web', "{.metadata.annotations['kubectl\\.kubernetes\\.io/last-applied-configuration']}")).toContain('nginx:1.28');
    expect((await kubectl(['diff', '-f', v3])).code).toBe(0);
  });

  it('set image, scale, label, annotate, edit (EDITOR scripted) and the three patch types', async () => {
    expect(await ok('set', 'image', 'deployment/web', 'main=nginx:1.29')).toBe('deployment.apps/web image updated\n');
    expect(await ok('scale', 'deployment/web', '--replicas=3')).toBe('deployment.apps/web scaled\n');
    expect(await jsonpath('deploy/web', '{.spec.replicas}')).toBe('3');
    expect(await ok('label', 'deployment/web', 'tier=front')).toBe('deployment.apps/web labeled\n');
    expect(await ok('annotate', 'deployment/web', 'owner=ops')).toBe('deployment.apps/web annotated\n');
    expect(await jsonpath('deploy/web', '{.metadata.labels.tier}/{.metadata.annotations.owner}')).toBe('front/ops');
    const edit = await kubectl(['edit', 'deployment/web'], { EDITOR: 'sed -i s/nginx:1.29/nginx:1.30/', KUBE_EDITOR: '' });
    expect(edit.code, edit.stderr).toBe(0);
    expect(edit.stdout).toBe('deployment.apps/web edited\n');
    expect(await jsonpath('deploy/web', '{.spec.template.spec.containers[0].image}')).toBe('nginx:1.30');
    expect(await ok('patch', 'deployment/web', '--type=strategic', '-p', '{"spec":{"template":{"spec":{"containers":[{"name":"main","env":[{"name":"A","value":"1"}]}]}}}}')).toBe('deployment.apps/web patched\n');
    expect(await ok('patch', 'deployment/web', '--type=merge', '-p', '{"spec":{"revisionHistoryLimit":5}}')).toBe('deployment.apps/web patched\n');
    expect(await ok('patch', 'deployment/web', '--type=json', '-p', '[{"op":"test","path":"/spec/revisionHistoryLimit","value":5},{"op":"replace","path":"/spec/replicas","value":2}]')).toBe('deployment.apps/web patched\n');
    expect(await jsonpath('deploy/web', '{.spec.replicas}/{.spec.revisionHistoryLimit}/{.spec.template.spec.containers[0].env[0].name}/{.spec.template.spec.containers[0].image}')).toBe('2/5/A/nginx:1.30');
    const failedTest = await kubectl(['patch', 'deployment/web', '--type=json', '-p', '[{"op":"test","path":"/spec/replicas","value":7}]']);
    expect(failedTest.code).not.toBe(0);
    expect(failedTest.stderr).toContain('test operation 0 failed');
    const invalid = await kubectl(['patch', 'deployment/web', '--type=merge', '-p', '{"spec":{"replicas":-1}}']);
    expect(invalid.code).not.toBe(0);
    expect(invalid.stderr).toContain('The Deployment "web" is invalid: spec.replicas');
    expect(await jsonpath('deploy/web', '{.spec.replicas}')).toBe('2');
  });

  it('apply --server-side: applied, a conflict with another manager, --force-conflicts', async () => {
    const cm = await file('ssa.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ssa\ndata:\n  mode: edge\n');
    expect(await ok('apply', '--server-side', '-f', cm)).toBe('configmap/ssa serverside-applied\n');
    expect(await ok('apply', '--server-side', '-f', cm)).toBe('configmap/ssa serverside-applied\n');
    expect(await ok('get', 'cm', 'ssa', '-o', 'jsonpath={.metadata.managedFields[0].manager}/{.metadata.managedFields[0].operation}')).toBe('kubectl/Apply');
    await ok('patch', 'cm', 'ssa', '--type=merge', '-p', '{"data":{"mode":"cloud"}}');
    const conflict = await kubectl(['apply', '--server-side', '-f', cm]);
    expect(conflict.code).not.toBe(0);
    expect(conflict.stderr).toContain('Apply failed with 1 conflict: conflict with "kubectl-patch" using v1: .data.mode');
    expect(await ok('apply', '--server-side', '--force-conflicts', '-f', cm)).toBe('configmap/ssa serverside-applied\n');
    expect(await jsonpath('cm/ssa', '{.data.mode}')).toBe('edge');
  });

  it('create -f, replace -f, create secret generic, create configmap --from-file', async () => {
    const cm = await file('settings.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  level: "1"\n');
    expect(await ok('create', '-f', cm)).toBe('configmap/settings created\n');
    const again = await kubectl(['create', '-f', cm]);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain('Error from server (AlreadyExists)');
    expect(again.stderr).toContain('configmaps "settings" already exists');
    await file('settings.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  level: "2"\n');
    expect(await ok('replace', '-f', cm)).toBe('configmap/settings replaced\n');
    expect(await jsonpath('cm/settings', '{.data.level}')).toBe('2');
    expect(await ok('create', 'secret', 'generic', 'creds', '--from-literal=user=admin', '--from-literal=pass=s3cret')).toBe('secret/creds created\n');
    expect(Buffer.from(await jsonpath('secret/creds', '{.data.pass}'), 'base64').toString()).toBe('s3cret');
    const conf = await file('app.conf', 'listen 8080\n');
    expect(await ok('create', 'configmap', 'app-conf', `--from-file=${conf}`)).toBe('configmap/app-conf created\n');
    expect(await jsonpath('cm/app-conf', "{.data['app\\.conf']}")).toBe('listen 8080\n');
  });

  it('bad input: unknown fields with --validate=strict, warn; wrong kinds; nothing changes', async () => {
    const bad = await file('bad.yaml', deployment('nginx:1.27', 1, '\n        colour: red').replace('name: web', 'name: bad'));
    const strict = await kubectl(['apply', '--validate=strict', '-f', bad]);
    expect(strict.code).not.toBe(0);
    expect(strict.stderr).toContain('unknown field "spec.template.spec.containers[0].colour"');
    expect((await kubectl(['get', 'deploy', 'bad'])).stderr).toContain('NotFound');
    const warn = await kubectl(['apply', '--validate=warn', '-f', bad]);
    expect(warn.code, warn.stderr).toBe(0);
    expect(warn.stderr).toContain('Warning: unknown field "spec.template.spec.containers[0].colour"');
    expect(await ok('delete', '-f', bad, '--wait=false')).toBe('deployment.apps "bad" deleted\n');
  });

  it('delete -f, delete pods -l, delete with --cascade=foreground and --dry-run=server', async () => {
    for (const name of ['p1', 'p2', 'p3']) {
      const pod = await file(`${name}.yaml`, `apiVersion: v1\nkind: Pod\nmetadata:\n  name: ${name}\n  labels: {app: ${name === 'p3' ? 'other' : 'batch'}}\nspec:\n  containers: [{name: main, image: busybox:1.36}]\n`);
      expect(await ok('apply', '-f', pod)).toBe(`pod/${name} created\n`);
    }
    expect(await ok('delete', 'pods', '-l', 'app=batch', '--wait=false')).toBe('pod "p1" deleted\npod "p2" deleted\n');
    expect(await ok('get', 'pods', '-l', 'app in (batch, other)', '-o', 'name')).toBe('pod/p3\n');
    expect(await ok('delete', 'pod', 'p3', '--dry-run=server')).toBe('pod "p3" deleted (server dry run)\n');
    expect(await ok('get', 'pods', '-l', 'app=other', '-o', 'name')).toBe('pod/p3\n');
    // Foreground: the Deployment stays (deletionTimestamp, finalizer) until the collector has
    // deleted its ReplicaSet and pods, then goes. (--wait=false: waiting is a watch, part C's.)
    expect(await ok('delete', 'deployment', 'web', '--cascade=foreground', '--wait=false')).toBe('deployment.apps "web" deleted\n');
    await eventually(async () => (await kubectl(['get', 'deploy', 'web'])).stderr.includes('NotFound'), 20_000, 'web deleted in the foreground');
    expect(await ok('get', 'rs,pods', '-l', 'app=web', '-o', 'name')).toBe('');
    const cm = join(dir, 'ssa.yaml');
    expect(await ok('delete', '-f', cm, '--wait=false')).toBe('configmap "ssa" deleted\n');
    expect((await kubectl(['get', 'cm', 'ssa'])).stderr).toContain('NotFound');
  });
});
