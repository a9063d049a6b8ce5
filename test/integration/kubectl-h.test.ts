/**
 * Part H (Grove's own verbs) against a real `grove server`: `grove get -o jsonpath` must print
 * what real kubectl prints for the same object and template (kubectl's own JSONPath printer run
 * locally: `kubectl label --local -f OBJECT -o jsonpath=…`, which needs no server), lists and
 * custom-columns read the server's objects, and `grove completion bash` completes names the
 * server lists. scale, node cordon|drain, get -w and get events need the write, eviction,
 * watch and event routes of the other parts: their end-to-end lines come with the merge.
 */
import { execFile } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { eventually, GROVE_BIN, runGrove } from '../support/grove-cli.js';
import { LoggedServer } from '../support/logged-server.js';
import { describeWith } from '../support/prereq.js';

const run = promisify(execFile);

async function capture(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(cmd, args, { env: { ...process.env, ...env }, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

describeWith(['kubectl'], "Grove's own verbs (part H) against a server", () => {
  let dir: string;
  let server: LoggedServer;
  const grove = (...args: string[]) => runGrove(['--data-dir', join(dir, 'data'), ...args]);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'grove-h-'));
    server = await LoggedServer.create(join(dir, 'data'), join(dir, 'server.log'));
    await server.start({ GROVE_TLS: 'true' });
    const manifest = join(dir, 'web.yaml');
    await writeFile(
      manifest,
      [
        'apiVersion: apps/v1',
        'kind: Deployment',
        'metadata: {name: web, labels: {tier: front}}',
        'spec:',
        '  replicas: 2',
        '  selector: {matchLabels: {app: web}}',
        '  template:',
        '    metadata: {labels: {app: web}}',
        '    spec:',
        '      containers:',
        '      - {name: main, image: "nginx:1.27", ports: [{containerPort: 80}, {containerPort: 443}]}',
        '      - {name: log, image: "busybox:1.36", env: [{name: MODE, value: "a<b&c"}]}',
        '',
      ].join('\n'),
    );
    const applied = await grove('apply', '-f', manifest);
    expect(applied.code, applied.stderr).toBe(0);
  }, 60_000);

  afterAll(async () => {
    await server?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('grove get -o jsonpath prints what kubectl prints for the same object and template', async () => {
    const asJson = await grove('get', 'deploy', 'web', '-o', 'json');
    expect(asJson.code, asJson.stderr).toBe(0);
    const file = join(dir, 'web.json');
    await writeFile(file, asJson.stdout);
    const templates = [
      '{.metadata.name}',
      '{.spec.template.spec.containers[*].image}',
      '{range .spec.template.spec.containers[*]}{.name}{"\\t"}{.image}{"\\n"}{end}',
      '{..image}',
      '{..containerPort}',
      '{.spec.template.spec.containers[-1:].name}',
      '{.spec.template.spec.containers[0].ports[1]}',
      '{.spec.selector}',
      '{.spec.template.spec.containers[1].env}',
      '{.spec.template.spec.containers[?(@.name=="log")].image}',
      "{.spec.template.spec.containers[?(@.name!='log')].name}",
      '{.spec.template.spec.containers[0].ports[?(@.containerPort>100)].containerPort}',
      '{.spec.template.spec.containers[*].ports[*].containerPort}',
      '{.spec.replicas} {.spec.missing} {.kind}',
      "{.spec.template.metadata.labels['app']}",
      '{.spec.template.spec.containers[0,1].name}',
      '{.spec.template.spec.containers[5]}',
    ];
    for (const template of templates) {
      const ours = await grove('get', 'deploy', 'web', '-o', `jsonpath=${template}`);
      const theirs = await capture('kubectl', ['label', '--local', '-f', file, 'h-test=yes', '-o', `jsonpath=${template}`], { HOME: dir });
      expect({ template, code: ours.code === 0, out: ours.stdout }).toEqual({ template, code: theirs.code === 0, out: theirs.stdout });
    }
  }, 120_000);

  it('lists: jsonpath over the v1 List, custom-columns a row per object', async () => {
    const pods = await eventually(async () => {
      const r = await grove('get', 'pods', '-o', 'name');
      return r.stdout.trim().split('\n').filter(Boolean).length === 2 && r.stdout;
    }, 20_000, "web's two pods");
    const names = pods.trim().split('\n').map((n) => n.replace('pod/', '')).sort();
    const jp = await grove('get', 'pods', '-o', 'jsonpath={.kind}:{.items[*].metadata.name}');
    expect(jp.code, jp.stderr).toBe(0);
    expect(jp.stdout.split(':')[0]).toBe('List');
    expect(jp.stdout.split(':')[1]!.split(' ').sort()).toEqual(names);
    const cc = await grove('get', 'deploy', '-A', '-o', 'custom-columns=NAME:.metadata.name,REPLICAS:.spec.replicas,IMAGES:.spec.template.spec.containers[*].image');
    expect(cc.stdout).toMatch(/^NAME +REPLICAS +IMAGES\nweb +2 +nginx:1\.27,busybox:1\.36\n$/);
  }, 60_000);

  it('grove completion bash completes the names the server lists', async () => {
    const script = await grove('completion', 'bash');
    expect(script.code, script.stderr).toBe(0);
    await writeFile(join(dir, 'grove.bash'), script.stdout);
    // `grove` as the shell would find it on PATH.
    await writeFile(join(dir, 'grove'), `#!/bin/sh\nexec "${process.execPath}" "${GROVE_BIN}" "$@"\n`);
    await chmod(join(dir, 'grove'), 0o755);
    const line = ['grove', '--data-dir', join(dir, 'data'), 'describe', 'deploy', ''];
    const program = `source ${dir}/grove.bash; COMP_WORDS=(${line.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${line.length - 1}; _grove; printf '%s\\n' "\${COMPREPLY[@]}"`;
    const r = await capture('bash', ['-c', program], { PATH: `${dir}:${process.env.PATH}` });
    expect(r.stdout.trim()).toBe('web');
  }, 60_000);
});
