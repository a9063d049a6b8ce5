/**
 * Bad network input through the whole path (issue 15, acceptance "Bad input"): a real
 * `grove server --tls` and the real kubectl (v1.32). Each mistake gives one clear error or
 * condition and leaves nothing half-made:
 *   - overlapping --cluster-cidr / --service-cidr: the server refuses to start, with one line;
 *   - a Service selecting nothing: a NoPodsSelected Warning in `kubectl describe svc`;
 *   - a NodePort out of range, or taken: 422 naming the field, and no Service stored;
 *   - a targetPort name no container port has: a PortNameNotFound Warning, and the pod left out
 *     of the EndpointSlice (the nodes program from the slices: no rule points at it), while a
 *     pod that has the port is in.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { eventually, GROVE_BIN } from '../support/grove-cli.js';
import { startKubectlServer, type KubectlServer } from '../support/kubectl-server.js';
import { describeWith } from '../support/prereq.js';

const run = promisify(execFile);

const pod = (name: string, portName: string) => `apiVersion: v1
kind: Pod
metadata: {name: ${name}, labels: {app: shop}}
spec:
  containers:
  - name: main
    image: nginx:1.27
    ports: [{name: ${portName}, containerPort: 8080}]
`;

const service = (name: string, spec: string) => `apiVersion: v1
kind: Service
metadata: {name: ${name}}
spec:
${spec}
`;

describeWith(['kubectl'], 'bad network input, end to end', () => {
  let k8s: KubectlServer;
  const kubectl = (...args: string[]) => k8s.kubectl(...args);
  const ok = (...args: string[]) => k8s.ok(...args);
  const file = (name: string, text: string) => k8s.file(name, text);
  /** The Service's events as `kubectl describe` lists them, once `reason` is among them. */
  const eventsOf = (svc: string, reason: string) =>
    eventually(async () => {
      const out = await ok('describe', 'svc', svc);
      return out.includes(reason) ? out.slice(out.indexOf('Events:')) : undefined;
    }, 20_000, `${reason} on service ${svc}`);

  beforeAll(async () => {
    k8s = await startKubectlServer('grove-net-bad-input-');
  }, 60_000);
  afterAll(async () => k8s?.stop());

  it('overlapping cluster and service CIDRs: the server refuses to start with one line, creating nothing', async () => {
    const data = join(k8s.dir, 'overlap');
    const r = await run(process.execPath, [GROVE_BIN, '--data-dir', data, 'server', '--no-agent', '--api-addr', '127.0.0.1:0', '--mqtt-addr', '127.0.0.1:0', '--cluster-cidr', '10.42.0.0/16', '--service-cidr', '10.42.128.0/17'], { timeout: 30_000 })
      .then(() => ({ code: 0, stderr: '' }), (err: { code?: number; stderr?: string }) => ({ code: err.code ?? -1, stderr: err.stderr ?? '' }));
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim().split('\n')).toEqual(['grove: --cluster-cidr 10.42.0.0/16 and --service-cidr 10.42.128.0/17 overlap: pod and service addresses must come from separate ranges']);
    expect(existsSync(data)).toBe(false);
  }, 60_000);

  it('a Service selecting nothing: a NoPodsSelected warning', async () => {
    await ok('apply', '-f', await file('none.yaml', service('nobody', '  selector: {app: nothing}\n  ports: [{port: 80}]')));
    expect(await eventsOf('nobody', 'NoPodsSelected')).toMatch(/Warning\s+NoPodsSelected\s+.*selector app=nothing matches no pod in namespace default: the Service has no endpoints/);
  });

  it('a NodePort out of range or taken: 422 naming the field, nothing stored', async () => {
    const spec = (port: number) => `  type: NodePort\n  selector: {app: shop}\n  ports: [{port: 80, nodePort: ${port}}]`;
    const outside = await kubectl('apply', '-f', await file('np1.yaml', service('np-out', spec(80))));
    expect(outside.code).not.toBe(0);
    expect(outside.stderr).toContain('spec.ports[0].nodePort: Invalid value: 80: provided port is not in the valid range. The range of valid ports is 30000-32767');
    await ok('apply', '-f', await file('np2.yaml', service('np-a', spec(30100))));
    const taken = await kubectl('apply', '-f', await file('np3.yaml', service('np-b', spec(30100))));
    expect(taken.code).not.toBe(0);
    expect(taken.stderr).toContain('spec.ports[0].nodePort: Invalid value: 30100: provided port is already allocated');
    expect((await kubectl('get', 'svc', 'np-out', 'np-b')).stderr).toMatch(/services "np-out" not found[\s\S]*services "np-b" not found/);
  });

  it('a targetPort name no container port has: PortNameNotFound, and that pod is no endpoint', async () => {
    await ok('apply', '-f', await file('pods.yaml', `${pod('good', 'http')}---\n${pod('bad', 'web')}`));
    // No node runs them here: give them addresses as a node's status report would.
    for (const [name, ip] of [['good', '10.42.0.7'], ['bad', '10.42.0.8']] as const) {
      await ok('patch', 'pod', name, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: { podIP: ip, podIPs: [{ ip }] } }));
    }
    await ok('apply', '-f', await file('shop.yaml', service('shop', '  selector: {app: shop}\n  ports: [{name: http, port: 80, targetPort: http}]')));
    expect(await eventsOf('shop', 'PortNameNotFound')).toMatch(/Warning\s+PortNameNotFound\s+.*no container port named "http" \(TCP\) in pod bad: left out of the Service's endpoints/);
    const slices = await eventually(async () => {
      const out = await ok('get', 'endpointslices', '-l', 'kubernetes.io/service-name=shop', '-o', 'jsonpath={range .items[*].endpoints[*]}{.targetRef.name}={.addresses[0]}:{end}|{range .items[*].ports[*]}{.name}/{.port}{end}');
      return out.startsWith('good=') ? out : undefined;
    }, 20_000, 'the good pod in the slice');
    expect(slices).toBe('good=10.42.0.7:|http/8080');
  });
});
