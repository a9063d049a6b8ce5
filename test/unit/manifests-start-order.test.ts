/** Start order in manifests → objects: init containers, compose depends_on and healthchecks (ported from the 0.1 parser's tests). */
import { describe, expect, it } from 'vitest';
import { encodeMessage } from '../../src/core/wire.js';
import { decodeNodeStatus } from '../../src/core/wire-from-agent.js';
import { manifestsToObjects } from '../../src/core/manifests/manifest-objects.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
function parse(text: string, file = 'app.yaml'): any[] {
  const r = manifestsToObjects([{ path: file, text }]);
  expect(r.problems.map((p) => p.text)).toEqual([]);
  return r.objects;
}
const problems = (text: string, file = 'app.yaml') => manifestsToObjects([{ path: file, text }]).problems.map((p) => p.text).join('\n');

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

describe('Kubernetes initContainers', () => {
  it('are kept as written', () => {
    const [d] = parse(deployment(twoInits));
    expect(d.spec.template.spec.initContainers.map((c: any) => [c.name, c.command, c.env])).toEqual([
      ['setup', ['sh', '-c', 'echo setup'], undefined],
      ['migrate', undefined, [{ name: 'STEP', value: '2' }]],
    ]);
    expect(parse(deployment(''))[0].spec.template.spec).not.toHaveProperty('initContainers');
  });

  it('rejects a name shared with a main container, probes, and Job pods', () => {
    expect(problems(deployment('      initContainers:\n        - name: app\n          image: busybox\n'))).toMatch(/initContainers\[0\]\.name.*"app" is also the name of a container of this pod/);
    expect(problems(deployment('      initContainers:\n        - name: i\n          image: busybox\n          readinessProbe: { exec: { command: ["true"] } }\n'))).toMatch(
      /initContainers\[0\]\.readinessProbe: init containers cannot have probes/,
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
    expect(problems(job)).toMatch(/initContainers.*is not supported on Job pods yet/);
  });
});

/** The workloads of a compose file (its Services are compose-network.test.ts's). */
const compose = (services: string) => parse(`services:\n${services}`, 'compose.yaml').filter((o) => o.kind !== 'Service');
const composeProblems = (services: string) => problems(`services:\n${services}`, 'compose.yaml');

describe('compose depends_on', () => {
  it('maps the short and the long form to the grove.io/depends-on annotation of the pod template', () => {
    const objects = compose(`  db:
    image: busybox
    restart: always
    healthcheck: { test: ["CMD", "true"] }
  migrate:
    image: busybox
  web:
    image: busybox
    restart: always
    depends_on:
      db: { condition: service_healthy }
      migrate: { condition: service_completed_successfully }
  worker:
    image: busybox
    restart: always
    depends_on: [db, web]
`);
    const byName = new Map(objects.map((o) => [o.metadata.name, o.spec.template.metadata.annotations?.['grove.io/depends-on']]));
    expect(byName.get('web')).toBe('db:healthy,migrate:completed');
    expect(byName.get('worker')).toBe('db:started,web:started');
    expect(byName.get('db')).toBeUndefined();
  });

  it('names the file and field of a missing service, a cycle, a self-dependency and service_healthy without healthcheck', () => {
    expect(composeProblems('  web:\n    image: busybox\n    depends_on: [db]\n')).toMatch(/compose\.yaml.*services\.web\.depends_on\[0\].*"db" is not a service of this file/);
    expect(compose('  web:\n    image: busybox\n    depends_on: { db: { condition: service_started, required: false } }\n')).toHaveLength(1);
    expect(composeProblems('  a:\n    image: busybox\n    depends_on: [b]\n  b:\n    image: busybox\n    depends_on: [a]\n')).toMatch(/compose\.yaml.*services\.a\.depends_on.*forms a cycle: a → b → a/);
    expect(composeProblems('  a:\n    image: busybox\n    depends_on: [a]\n')).toMatch(/cannot depend on itself/);
    expect(composeProblems('  db:\n    image: busybox\n  web:\n    image: busybox\n    depends_on: { db: { condition: service_healthy } }\n')).toMatch(
      /depends_on\.db\.condition.*service_healthy needs a healthcheck on service "db"/,
    );
    expect(composeProblems('  db:\n    image: busybox\n  web:\n    image: busybox\n    depends_on: { db: { condition: later } }\n')).toMatch(/must be one of service_started/);
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
  const container = (services: string) => compose(services)[0].spec.template.spec.containers[0];

  it('is a readiness probe only under restart "no", with docker defaults', () => {
    const c = container('  web:\n    image: busybox\n    healthcheck:\n      test: ["CMD", "wget", "-q", "localhost"]\n');
    expect(c.readinessProbe).toEqual(probe(['wget', '-q', 'localhost'], 30, 30, 3));
    expect(c).not.toHaveProperty('livenessProbe');
  });

  it('adds liveness and a startup probe for start_period when the service restarts', () => {
    const c = container(`  web:
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
    expect([c.readinessProbe, c.livenessProbe, c.startupProbe]).toEqual([probe(sh, 10, 2, 5), probe(sh, 10, 2, 5), probe(sh, 10, 2, 11)]);
  });

  it('takes a plain string as a shell command; NONE and disable mean no probes', () => {
    expect(container('  web:\n    image: busybox\n    healthcheck: { test: "nc -z localhost 80", interval: 1s }\n').readinessProbe).toMatchObject({ exec: { command: ['/bin/sh', '-c', 'nc -z localhost 80'] } });
    expect(container('  web:\n    image: busybox\n    healthcheck: { test: ["NONE"] }\n')).toEqual({ name: 'web', image: 'busybox' });
    expect(container('  web:\n    image: busybox\n    healthcheck: { test: "true", disable: true }\n')).toEqual({ name: 'web', image: 'busybox' });
  });

  it('refuses what it cannot run', () => {
    expect(composeProblems('  web:\n    image: busybox\n    healthcheck: { test: ["RUN", "x"] }\n')).toMatch(/healthcheck\.test\[0\].*"RUN" must be "CMD", "CMD-SHELL" or "NONE"/);
    expect(composeProblems('  web:\n    image: busybox\n    healthcheck: { interval: 5s }\n')).toMatch(/healthcheck.*needs a test/);
    expect(composeProblems('  web:\n    image: busybox\n    healthcheck: { test: "true", interval: soon }\n')).toMatch(/healthcheck\.interval.*is not a duration/);
    expect(composeProblems('  web:\n    image: busybox\n    healthcheck: { test: "true", retries: 0 }\n')).toMatch(/retries/);
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
