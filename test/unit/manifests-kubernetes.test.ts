/**
 * Kubernetes documents → objects: what the 0.1 parser's tests checked that still applies to
 * objects kept as written (manifest-objects.test.ts and objects-workloads.test.ts cover the
 * rest): kubectl's own output, YAML documents and anchors, wrapped base64, batch specifics.
 */
import { describe, expect, it } from 'vitest';
import { manifestsToObjects } from '../../src/core/manifests/manifest-objects.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
function parse(text: string): any[] {
  const r = manifestsToObjects([{ path: 'k.yaml', text }]);
  expect(r.problems.map((p) => p.text)).toEqual([]);
  return r.objects;
}
const problems = (text: string) => manifestsToObjects([{ path: 'k.yaml', text }]).problems.map((p) => p.text);

const cronJob = (spec: string) => `apiVersion: batch/v1
kind: CronJob
metadata:
  name: backup
spec:
${spec}  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers:
            - name: main
              image: busybox
`;

describe('Kubernetes documents → objects', () => {
  it('accepts what kubectl create --dry-run=client -o yaml writes', () => {
    const text = `apiVersion: apps/v1
kind: Deployment
metadata:
  creationTimestamp: null
  labels:
    app: web
  name: web
spec:
  replicas: 1
  selector:
    matchLabels:
      app: web
  strategy: {}
  template:
    metadata:
      creationTimestamp: null
      labels:
        app: web
    spec:
      containers:
      - image: nginx
        name: nginx
        resources: {}
status: {}
`;
    const [d] = parse(text);
    expect(d.spec.template.spec.containers[0].image).toBe('nginx');
  });

  it('skips empty documents but counts them in document numbers', () => {
    const cm = (name: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n`;
    expect(parse(`---\n${cm('a')}---\n# nothing here\n---\n---\n${cm('b')}`).map((o) => o.metadata.name)).toEqual(['a', 'b']);
    expect(problems(`---\n${cm('a')}---\n# nothing here\n---\n---\n${cm('B')}`)).toEqual([expect.stringMatching(/^k\.yaml:\d+ \(document 4, ConfigMap "B"\): metadata\.name: /)]);
  });

  it('resolves YAML anchors and merge keys', () => {
    const text = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: merged\n  labels: &common { team: edge }\n  annotations:\n    <<: *common\n    extra: "yes"\n';
    expect(parse(text)[0].metadata).toMatchObject({ labels: { team: 'edge' }, annotations: { team: 'edge', extra: 'yes' } });
  });

  it('takes base64 wrapped over lines, as kubectl does', () => {
    const [secret] = parse('apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ndata:\n  cert: |\n    bGluZSBvbmUK\n    bGluZSB0d28=\n');
    expect(Buffer.from(secret.data.cert, 'base64').toString('utf8')).toBe('line one\nline two');
  });

  it('accepts 6-field (seconds) CronJob schedules and refuses what is no schedule', () => {
    expect(parse(cronJob('  schedule: "*/2 * * * * *"\n'))[0].spec.schedule).toBe('*/2 * * * * *');
    expect(problems(cronJob('  schedule: "every day"\n'))).toEqual([expect.stringContaining('spec.schedule: "every day"')]);
  });

  it('checks a Job\'s hand-written selector against the template labels', () => {
    const job = 'apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: migrate\nspec:\n  selector:\n    matchLabels:\n      app: other\n  template:\n    metadata:\n      labels:\n        app: migrate\n    spec:\n      restartPolicy: Never\n      containers:\n        - name: main\n          image: busybox\n';
    expect(problems(job)).toEqual([expect.stringContaining('app=other does not match')]);
  });
});
