import { describe, expect, it } from 'vitest';
import { manifestsToObjects } from '../../src/core/manifests/manifest-objects.js';

/** YAML as kubectl reads it (issue 16): duplicate keys, `get -o yaml` dumps. */
const apply = (text: string, path = 'app.yaml') => manifestsToObjects([{ path, text }]);

const DEPLOYMENT = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      containers:
        - name: web
          image: nginx:1.27
          image: nginx:1.28
`;

describe('duplicate keys', () => {
  it('are a warning naming the key and both lines in a Kubernetes document; the last value is used', () => {
    const r = apply(DEPLOYMENT);
    expect(r.problems).toEqual([]);
    expect(r.warnings).toEqual(['app.yaml:13 (document 1): spec.template.spec.containers[0].image: duplicate key "image" (first at line 12): the last value is used']);
    expect((r.objects[0] as { spec: { template: { spec: { containers: { image: string }[] } } } }).spec.template.spec.containers[0]!.image).toBe('nginx:1.28');
  });

  it('are a problem in a compose file, in docker compose\'s words', () => {
    const r = apply('services:\n  web:\n    image: nginx\n    image: caddy\n', 'compose.yaml');
    expect(r.objects).toEqual([]);
    expect(r.problems.map((p) => p.text)).toEqual(['compose.yaml:4 (document 1): services.web.image: mapping key "image" already defined at line 3']);
  });
});

describe('kubectl get -o yaml dumps', () => {
  const dump = `apiVersion: v1
kind: List
items:
  - apiVersion: v1
    kind: ConfigMap
    metadata:
      name: settings
      namespace: default
      uid: 0b4c1f6e-1111-2222-3333-444455556666
      resourceVersion: "918"
      creationTimestamp: "2026-11-30T10:00:00Z"
      managedFields:
        - { manager: kubectl-client-side-apply, operation: Update, apiVersion: v1, fieldsType: FieldsV1, fieldsV1: { f:data: {} } }
    data: { level: debug }
  - apiVersion: v1
    kind: Pod
    metadata:
      name: web
      generation: 1
    spec:
      containers: [{ name: web, image: nginx }]
    status:
      phase: Running
      qosClass: BestEffort
      podIP: 10.42.0.9
      containerStatuses: [{ name: web, ready: true, restartCount: 0, image: nginx, imageID: x, volumeMounts: [] }]
`;

  it('apply without the server-set fields, named in one warning', () => {
    const r = apply(dump, 'dump.yaml');
    expect(r.problems).toEqual([]);
    expect(r.warnings).toEqual(['dump.yaml: fields set by the server are ignored: metadata.uid, metadata.resourceVersion, metadata.creationTimestamp, metadata.managedFields, status, metadata.generation']);
    expect(r.objects.map((o) => [o.kind, Object.keys(o.metadata).sort(), 'status' in o])).toEqual([
      ['ConfigMap', ['name', 'namespace'], false],
      ['Pod', ['name'], false],
    ]);
  });

  it('say nothing for what create --dry-run writes (creationTimestamp: null)', () => {
    const r = apply('apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  creationTimestamp: null\n');
    expect(r.problems).toEqual([]);
    expect(r.warnings).toEqual([]);
  });
});

describe('ServiceAccount, LimitRange and ResourceQuota', () => {
  it('a ServiceAccount applies; LimitRange and ResourceQuota are refused by name with the reason', () => {
    expect(apply('apiVersion: v1\nkind: ServiceAccount\nmetadata: { name: builder }\nautomountServiceAccountToken: false\n').problems).toEqual([]);
    expect(apply('apiVersion: v1\nkind: LimitRange\nmetadata: { name: l }\n').problems[0]!.text).toMatch(/kind LimitRange is not supported yet: Grove does not enforce limit ranges/);
    expect(apply('apiVersion: v1\nkind: ResourceQuota\nmetadata: { name: q }\n').problems[0]!.text).toMatch(/kind ResourceQuota is not supported yet: Grove does not enforce resource quotas/);
  });
});
