import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { startOneNodeCluster } from '../support/one-node.js';
import { eventually } from '../support/grove-cli.js';

it('debug ingress status', async () => {
  const c = await startOneNodeCluster('grove-dbg-', 'node-x', {});
  try {
    await writeFile(join(c.scratch, 'i.yaml'), `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: { name: sites }
spec:
  rules:
  - host: web.example.com
    http: { paths: [{ path: /, pathType: Prefix, backend: { service: { name: web, port: { number: 80 } } } }] }
`);
    const a = await c.cluster.grove(['apply', '-f', join(c.scratch, 'i.yaml')]);
    console.log('apply', a.code, a.stdout, a.stderr);
    const l = await c.cluster.grove(['node', 'label', 'node-x', 'node-role.kubernetes.io/ingress=true']);
    console.log('label', l.code, l.stdout, l.stderr);
    await new Promise((r) => setTimeout(r, 4000));
    const n = await c.cluster.grove(['get', 'node', 'node-x', '-o', 'json']);
    console.log('node', n.stdout.slice(0, 3000));
    const i = await c.cluster.grove(['get', 'ingress', 'sites', '-o', 'json']);
    console.log('ingress', i.code, i.stdout, i.stderr);
    console.log('serverlog', c.cluster.serverLog.split('\n').filter((x) => /warn|error|ingress|controller/i.test(x)).slice(-40).join('\n'));
  } finally {
    await c.destroy();
  }
}, 120_000);
