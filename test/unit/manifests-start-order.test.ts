import { describe, expect, it } from 'vitest';
import { parseApps } from './manifest-fixtures.js';
import type { App } from '../../src/core/resolved-pod.js';
import { decodeNodeTarget, encodeMessage, makeNodeTarget } from '../../src/core/wire.js';
import { decodeNodeStatus } from '../../src/core/wire-from-agent.js';
import { buildNodePods, templateHash } from '../../src/server/targets.js';
import { validateResources } from '../../src/server/validate.js';

const parse = (text: string, file = 'app.yaml') => parseApps(text, { file });

const deployment = (podExtra: string, kind = 'Deployment') => `apiVersion: apps/v1
kind: ${kind}
metadata:
  name: web
spec:
  selector: { matchLabels: { app: web } }
  template:
    metadata:
      labels: { app: web }
    spec:
${podExtra}      containers:
        - name: app
          image: busybox
`;

const twoInits = `      initContainers:
        - name: setup
          image: busybox
          command: [sh, -c, "echo setup"]
        - name: migrate
          image: busybox
          env: [{ name: STEP, value: "2" }]
`;

/** The apps through the API's validation and the server's targets, as a node receives them. */
function onTheWire(apps: App[]) {
  const validated = validateResources(JSON.parse(JSON.stringify(apps))) as App[];
  const pods = buildNodePods(
    'n1',
    validated.map((a) => ({ meta: { name: `${a.meta.name}-x` }, app: a.meta.name, node: 'n1', templateHash: templateHash(a) }) as never),
    validated,
  );
  return decodeNodeTarget(encodeMessage(makeNodeTarget({ cluster: 'c', node: 'n1', revision: 1, pods, issuedAt: '2025-01-01T00:00:00.000Z' }))).pods;
}

describe('Kubernetes initContainers', () => {
  it('reads them like containers and carries them to the node', () => {
    const [app] = parse(deployment(twoInits));
    expect(app!.spec.template.initContainers!.map((c) => [c.name, c.command, c.env])).toEqual([
      ['setup', ['sh', '-c', 'echo setup'], []],
      ['migrate', undefined, [{ name: 'STEP', value: '2' }]],
    ]);
    const [pod] = onTheWire([app!]);
    expect(pod!.initContainers!.map((c) => c.name)).toEqual(['setup', 'migrate']);
    expect(pod!.containers.map((c) => c.name)).toEqual(['app']);
  });

  it('leaves templates without them (and their hash) as they were', () => {
    const [app] = parse(deployment(''));
    expect(app!.spec.template).not.toHaveProperty('initContainers');
    const [pod] = onTheWire([app!]);
    expect(pod).not.toHaveProperty('initContainers');
    expect(pod).not.toHaveProperty('dependsOn');
  });

  it('rejects a name shared with a main container, probes, and Job pods', () => {
    expect(() => parse(deployment('      initContainers:\n        - name: app\n          image: busybox\n'))).toThrow(
      /initContainers\[0\]\.name.*"app" is also the name of a container of this pod/,
    );
    expect(() => parse(deployment('      initContainers:\n        - name: i\n          image: busybox\n          readinessProbe: { exec: { command: ["true"] } }\n'))).toThrow(
      /initContainers\[0\]\.readinessProbe.*init containers cannot have probes/,
    );
    const job = `apiVersion: batch/v1
kind: Job
metadata: { name: once }
spec:
  template:
    spec:
      restartPolicy: Never
      initContainers: [{ name: i, image: busybox }]
      containers: [{ name: main, image: busybox }]
`;
    expect(() => parse(job)).toThrow(/initContainers.*is not supported on Job pods yet/);
  });

  it('the API refuses the same mistakes from clients that skip the manifest layer', () => {
    const [app] = parse(deployment(twoInits));
    const bad = JSON.parse(JSON.stringify(app));
    bad.spec.template.initContainers[1].name = 'app';
    expect(() => validateResources([bad])).toThrow(/initContainers\[1\]\.name: "app" is also the name of a container/);
    const probed = JSON.parse(JSON.stringify(app));
    probed.spec.template.initContainers[0].probes = { readiness: { exec: { command: ['true'] }, initialDelaySeconds: 0, periodSeconds: 1, timeoutSeconds: 1, failureThreshold: 1, successThreshold: 1 } };
    expect(() => validateResources([probed])).toThrow(/init containers cannot have probes/);
  });
});

const compose = (services: string) => parse(`services:\n${services}`, 'compose.yaml');

describe('compose depends_on', () => {
  it('maps the short and the long form to dependsOn', () => {
    const apps = compose(`  db:
    image: busybox
    healthcheck: { test: ["CMD", "true"] }
  migrate:
    image: busybox
  web:
    image: busybox
    depends_on:
      db: { condition: service_healthy }
      migrate: { condition: service_completed_successfully }
  worker:
    image: busybox
    depends_on: [db, web]
`);
    const byName = new Map(apps.map((a) => [a.meta.name, a.spec.template.dependsOn]));
    expect(byName.get('web')).toEqual([
      { app: 'db', condition: 'healthy' },
      { app: 'migrate', condition: 'completed' },
    ]);
    expect(byName.get('worker')).toEqual([
      { app: 'db', condition: 'started' },
      { app: 'web', condition: 'started' },
    ]);
    expect(byName.get('db')).toBeUndefined();
    const pods = onTheWire(apps);
    expect(pods.find((p) => p.app === 'web')!.dependsOn).toEqual(byName.get('web'));
  });

  it('names the file and field of a missing service, a cycle, a self-dependency and service_healthy without healthcheck', () => {
    expect(() => compose('  web:\n    image: busybox\n    depends_on: [db]\n')).toThrow(/compose\.yaml.*services\.web\.depends_on\[0\].*"db" is not a service of this file/);
    expect(() => compose('  web:\n    image: busybox\n    depends_on: { db: { condition: service_started, required: false } }\n')).not.toThrow();
    expect(() => compose('  a:\n    image: busybox\n    depends_on: [b]\n  b:\n    image: busybox\n    depends_on: [a]\n')).toThrow(
      /compose\.yaml.*services\.a\.depends_on.*forms a cycle: a → b → a/,
    );
    expect(() => compose('  a:\n    image: busybox\n    depends_on: [a]\n')).toThrow(/cannot depend on itself/);
    expect(() => compose('  db:\n    image: busybox\n  web:\n    image: busybox\n    depends_on: { db: { condition: service_healthy } }\n')).toThrow(
      /depends_on\.db\.condition.*service_healthy needs a healthcheck on service "db"/,
    );
    expect(() => compose('  db:\n    image: busybox\n  web:\n    image: busybox\n    depends_on: { db: { condition: later } }\n')).toThrow(/must be one of service_started/);
  });

  it('the API refuses a dependency cycle among the applied apps and a self-dependency', () => {
    const apps = compose('  a:\n    image: busybox\n  b:\n    image: busybox\n    depends_on: [a]\n');
    const raw = JSON.parse(JSON.stringify(apps));
    raw[0].spec.template.dependsOn = [{ app: 'b', condition: 'started' }];
    expect(() => validateResources(raw)).toThrow(/dependsOn forms a cycle: a → b → a/);
    raw[0].spec.template.dependsOn = [{ app: 'a', condition: 'started' }];
    expect(() => validateResources(raw)).toThrow(/dependsOn\[0\]\.app: an app cannot depend on itself/);
    raw[0].spec.template.dependsOn = [{ app: 'b', condition: 'soon' }];
    expect(() => validateResources(raw)).toThrow(/condition: expected one of started, healthy, completed/);
  });
});

describe('compose healthcheck', () => {
  const probe = (command: string[], period: number, timeout: number, failures: number) => ({
    exec: { command },
    initialDelaySeconds: 0,
    periodSeconds: period,
    timeoutSeconds: timeout,
    failureThreshold: failures,
    successThreshold: 1,
  });

  it('is a readiness probe only under restart "no", with docker defaults', () => {
    const [app] = compose('  web:\n    image: busybox\n    healthcheck:\n      test: ["CMD", "wget", "-q", "localhost"]\n');
    expect(app!.spec.template.containers[0]!.probes).toEqual({ readiness: probe(['wget', '-q', 'localhost'], 30, 30, 3) });
  });

  it('adds liveness and a startup probe for start_period when the service restarts', () => {
    const [app] = compose(`  web:
    image: busybox
    restart: always
    healthcheck:
      test: ["CMD-SHELL", "test -f /tmp/up"]
      interval: 10s
      timeout: 2s
      retries: 5
      start_period: 1m
`);
    const sh = ['/bin/sh', '-c', 'test -f /tmp/up'];
    expect(app!.spec.template.containers[0]!.probes).toEqual({
      readiness: probe(sh, 10, 2, 5),
      liveness: probe(sh, 10, 2, 5),
      startup: probe(sh, 10, 2, 11),
    });
  });

  it('takes a plain string as a shell command; NONE and disable mean no probes', () => {
    const [app] = compose('  web:\n    image: busybox\n    healthcheck: { test: "nc -z localhost 80", interval: 1s }\n');
    expect(app!.spec.template.containers[0]!.probes!.readiness).toMatchObject({ exec: { command: ['/bin/sh', '-c', 'nc -z localhost 80'] } });
    expect(compose('  web:\n    image: busybox\n    healthcheck: { test: ["NONE"] }\n')[0]!.spec.template.containers[0]).not.toHaveProperty('probes');
    expect(compose('  web:\n    image: busybox\n    healthcheck: { test: "true", disable: true }\n')[0]!.spec.template.containers[0]).not.toHaveProperty('probes');
  });

  it('refuses what it cannot run', () => {
    expect(() => compose('  web:\n    image: busybox\n    healthcheck: { test: ["RUN", "x"] }\n')).toThrow(/healthcheck\.test\[0\].*"RUN" must be "CMD", "CMD-SHELL" or "NONE"/);
    expect(() => compose('  web:\n    image: busybox\n    healthcheck: { interval: 5s }\n')).toThrow(/healthcheck.*needs a test/);
    expect(() => compose('  web:\n    image: busybox\n    healthcheck: { test: "true", interval: soon }\n')).toThrow(/healthcheck\.interval.*is not a duration/);
    expect(() => compose('  web:\n    image: busybox\n    healthcheck: { test: "true", retries: 0 }\n')).toThrow(/retries/);
  });
});

describe('init container status on the wire', () => {
  // The CLI's Init:N/M column on objects: test/unit/cli-k8s-pod-status.test.ts.
  it('init container statuses survive the node status codec', () => {
    const pods = [
      {
        name: 'web-x', app: 'web', templateHash: 'h', phase: 'Pending', ready: false, restarts: 0,
        containers: [{ name: 'app', state: 'waiting', reason: 'PodInitializing', oomKilled: false, restarts: 0 }],
        initContainers: [{ name: 'setup', state: 'running', oomKilled: false, restarts: 0 }],
      },
    ];
    const facts = { arch: 'x', os: 'linux', cpus: 1, memoryBytes: 1, memoryAvailableBytes: 1, diskFreeBytes: 1, kernel: 'k', ociRuntime: 'runc', cgroupVersion: 2, agentVersion: '1', labels: {} };
    const status = decodeNodeStatus(encodeMessage({ schema: 1, node: 'n1', seq: 1, observedRevision: 1, heartbeat: false, facts, pods, sentAt: '2025-01-01T00:00:00.000Z' }));
    expect(status.pods[0]!.initContainers).toEqual(pods[0]!.initContainers);
  });
});
