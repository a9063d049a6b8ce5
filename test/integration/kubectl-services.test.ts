/**
 * Issue 15: the real kubectl (v1.32 on PATH) with Services and EndpointSlices against a real
 * `grove server --tls` (no node: pods stay Pending, so the Service's slice is empty): expose,
 * get svc / endpointslices across namespaces with kubectl's columns, describe svc, a NodePort
 * asked twice refused with the field path, and delete.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { eventually } from '../support/grove-cli.js';
import { runKubectl, writeKubeconfig, type KubectlResult } from '../support/kubectl.js';
import { LoggedServer } from '../support/logged-server.js';
import { describeWith } from '../support/prereq.js';

const deployment = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, labels: {app: web}}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: main
        image: nginx:1.27
        ports: [{name: http, containerPort: 8080}]
`;

const nodePort = (name: string, port: number) => `apiVersion: v1
kind: Service
metadata: {name: ${name}}
spec:
  type: NodePort
  selector: {app: web}
  ports: [{port: 80, targetPort: http, nodePort: ${port}}]
`;

describeWith(['kubectl'], 'kubectl with Services and EndpointSlices', () => {
  let dir: string;
  let server: LoggedServer;
  let kubeconfig: string;

  const kubectl = (args: string[]): Promise<KubectlResult> => runKubectl(kubeconfig, dir, args);

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

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'grove-kubectl-svc-'));
    server = await LoggedServer.create(join(dir, 'data'), join(dir, 'server.log'));
    await server.start({ GROVE_TLS: 'true' });
    kubeconfig = await writeKubeconfig(dir, join(dir, 'data'), 'default');
  }, 60_000);

  afterAll(async () => {
    await server?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('expose a Deployment; get svc,endpointslices -A; describe svc', async () => {
    expect(await ok('apply', '-f', await file('web.yaml', deployment))).toBe('deployment.apps/web created\n');
    expect(await ok('expose', 'deployment', 'web', '--port', '80', '--target-port', 'http')).toBe('service/web exposed\n');
    expect(await ok('get', 'svc', 'web', '-o', 'jsonpath={.spec.clusterIP} {.spec.ports[0].targetPort} {.spec.selector.app}')).toBe('10.43.0.1 http web');
    const table = await eventually(async () => {
      const out = await ok('get', 'svc,endpointslices', '-A');
      return /endpointslice\.discovery\.k8s\.io\/web-/.test(out) ? out : undefined;
    }, 20_000, 'the Service\'s EndpointSlice');
    expect(table).toMatch(/^NAMESPACE\s+NAME\s+TYPE\s+CLUSTER-IP\s+EXTERNAL-IP\s+PORT\(S\)\s+AGE$/m);
    expect(table).toMatch(/^default\s+service\/web\s+ClusterIP\s+10\.43\.0\.1\s+<none>\s+80\/TCP\s+\S+$/m);
    expect(table).toMatch(/^NAMESPACE\s+NAME\s+ADDRESSTYPE\s+PORTS\s+ENDPOINTS\s+AGE$/m);
    // No node: the pod has no address, so the slice is the empty placeholder.
    expect(table).toMatch(/^default\s+endpointslice\.discovery\.k8s\.io\/web-\w+\s+IPv4\s+<unset>\s+<unset>\s+\S+$/m);
    expect(await ok('get', 'svc', 'web', '-o', 'wide')).toMatch(/^web\s+ClusterIP\s+10\.43\.0\.1\s+<none>\s+80\/TCP\s+\S+\s+app=web$/m);
    const described = await ok('describe', 'svc', 'web');
    expect(described).toMatch(/^Name:\s+web$/m);
    expect(described).toMatch(/^Selector:\s+app=web$/m);
    expect(described).toMatch(/^Type:\s+ClusterIP$/m);
    expect(described).toMatch(/^IP:\s+10\.43\.0\.1$/m);
    expect(described).toMatch(/^TargetPort:\s+http\/TCP$/m);
    expect(described).toMatch(/^Events:\s+/m);
  });

  it('NodePort: allocated, a taken one refused with the field path, headless; delete', async () => {
    expect(await ok('apply', '-f', await file('np.yaml', nodePort('np', 30080)))).toBe('service/np created\n');
    expect(await ok('get', 'svc', 'np')).toMatch(/^np\s+NodePort\s+10\.43\.0\.\d+\s+<none>\s+80:30080\/TCP\s+\S+$/m);
    const taken = await kubectl(['apply', '-f', await file('np2.yaml', nodePort('np2', 30080))]);
    expect(taken.code).toBe(1);
    expect(taken.stderr).toContain('spec.ports[0].nodePort: Invalid value: 30080: provided port is already allocated');
    const outside = await kubectl(['apply', '-f', await file('np3.yaml', nodePort('np3', 80))]);
    expect(outside.stderr).toContain('provided port is not in the valid range. The range of valid ports is 30000-32767');
    // kubectl's typed `create service` sends protobuf bodies.
    expect(await ok('create', 'service', 'clusterip', 'peers', '--clusterip', 'None')).toBe('service/peers created\n');
    expect(await ok('get', 'svc', 'peers', '-o', 'jsonpath={.spec.clusterIP}')).toBe('None');
    expect(await ok('create', 'service', 'nodeport', 'np4', '--tcp=81:http', '--node-port=30090')).toBe('service/np4 created\n');
    expect(await ok('get', 'svc', 'np4', '-o', 'jsonpath={.spec.ports[0].nodePort} {.spec.ports[0].targetPort}')).toBe('30090 http');
    expect(await ok('create', 'service', 'externalname', 'ext', '--external-name', 'db.example.com')).toBe('service/ext created\n');
    expect(await ok('create', 'service', 'loadbalancer', 'lb', '--tcp=443:8443')).toBe('service/lb created\n');
    // No node, so no address for the LoadBalancer yet.
    expect(await ok('get', 'svc', 'ext', 'lb')).toMatch(/^ext\s+ExternalName\s+<none>\s+db\.example\.com\s+<none>\s+\S+\nlb\s+LoadBalancer\s+10\.43\.0\.\d+\s+<pending>\s+443:\d+\/TCP\s+\S+$/m);
    expect(await ok('delete', 'svc', 'np', 'web', 'peers', 'np4', 'ext', 'lb')).toBe('service "np" deleted\nservice "web" deleted\nservice "peers" deleted\nservice "np4" deleted\nservice "ext" deleted\nservice "lb" deleted\n');
    await eventually(async () => ((await ok('get', 'endpointslices', '-o', 'name')) === '' ? true : undefined), 20_000, 'the slices gone with their Services');
  });
});
