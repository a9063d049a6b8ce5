/**
 * Compose services → Kubernetes objects (compose-objects.ts and the service readers it uses):
 * the field mappings and refusals of the 0.1 compose tests, ported to the objects the client
 * sends now (manifest-objects.test.ts covers labels, volumes, ports and healthchecks at large).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { manifestsToObjects } from '../../src/core/manifests/manifest-objects.js';

const FIXTURES = new URL('../fixtures/manifests/', import.meta.url);
const fixture = (name: string) => readFileSync(new URL(name, FIXTURES), 'utf8').replaceAll('REGISTRY', 'registry.test:5000');
/* eslint-disable @typescript-eslint/no-explicit-any */
function parseAll(text: string): any[] {
  const r = manifestsToObjects([{ path: 'compose.yaml', text }]);
  expect(r.problems.map((p) => p.text)).toEqual([]);
  return r.objects;
}
/** The workloads only (the Namespace and Services are compose-network.test.ts's). */
const parse = (text: string): any[] => parseAll(text).filter((o) => o.kind !== 'Service' && o.kind !== 'Namespace');
const problems = (text: string) => manifestsToObjects([{ path: 'compose.yaml', text }]).problems.map((p) => p.text).join('\n');
/** One service called web with these extra lines (indented for a service body). */
const web = (lines: string) => parse(`services:\n  web:\n    image: busybox\n${lines}`)[0]!;
const webFails = (lines: string) => problems(`services:\n  web:\n    image: busybox\n${lines}`);
const podSpec = (o: any) => (o.kind === 'CronJob' ? o.spec.jobTemplate.spec.template.spec : o.spec.template.spec);
const COMPOSE_LABELS = (project: string, service: string) => ({ 'com.docker.compose.project': project, 'com.docker.compose.service': service });

describe('compose files → objects', () => {
  it('turns each restarting service of the two-service fixture into a Deployment', () => {
    const [webApp, worker] = parse(fixture('compose-two-services.yaml'));
    expect(webApp).toMatchObject({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'default' }, spec: { replicas: 1 } });
    const c = podSpec(webApp).containers[0];
    expect(c).toMatchObject({ name: 'web', image: 'registry.test:5000/test/busybox:1', args: ['sleep', '3600'], env: [{ name: 'MODE', value: 'web' }], resources: { limits: { memory: '32Mi' } } });
    expect([worker.kind, worker.metadata.name]).toEqual(['Deployment', 'worker']);
    expect(podSpec(worker).containers[0]).toMatchObject({ args: ['sleep', '3601'], env: [{ name: 'MODE', value: 'worker' }] });
  });

  it('maps entrypoint to command and splits strings like a shell', () => {
    const c = podSpec(web(`    entrypoint: /bin/sh -c\n    command: "'echo hi' \\"a b\\" c\\\\ d ''"\n`)).containers[0];
    expect(c.command).toEqual(['/bin/sh', '-c']);
    expect(c.args).toEqual(['echo hi', 'a b', 'c d', '']);
  });

  it('reads environment and labels as lists or maps, stringifying values', () => {
    const o = web(`    environment:\n      - A=1\n      - B=x=y\n      - EMPTY=\n    labels:\n      team: edge\n      tier: 2\n      flag: true\n`);
    expect(podSpec(o).containers[0].env).toEqual([
      { name: 'A', value: '1' },
      { name: 'B', value: 'x=y' },
      { name: 'EMPTY', value: '' },
    ]);
    expect(o.metadata.labels).toEqual({ team: 'edge', tier: '2', flag: 'true', ...COMPOSE_LABELS('default', 'web') });
    expect(o.spec.template.metadata.labels).toEqual(o.metadata.labels);
    const map = web(`    environment:\n      PORT: 8080\n      DEBUG: false\n    labels: ["a=b", "c"]\n`);
    expect(podSpec(map).containers[0].env).toEqual([
      { name: 'PORT', value: '8080' },
      { name: 'DEBUG', value: 'false' },
    ]);
    expect(map.metadata.labels).toEqual({ a: 'b', c: '', ...COMPOSE_LABELS('default', 'web') });
  });

  it.each([
    [undefined, 'Job', 'Never'],
    ['no', 'Job', 'Never'],
    ['always', 'Deployment', 'Always'],
    ['unless-stopped', 'Deployment', 'Always'],
    ['on-failure', 'Job', 'OnFailure'],
  ])('maps restart %s to a %s with restartPolicy %s (compose default is no)', (restart, kind, policy) => {
    const o = web(restart ? `    restart: ${restart}\n` : '');
    expect([o.kind, podSpec(o).restartPolicy]).toEqual([kind, policy]);
  });

  it('reads resources from the service and from deploy, docker units as Kubernetes quantities', () => {
    const a = web(`    restart: always\n    mem_limit: 512m\n    mem_reservation: 128m\n    cpus: 0.5\n    pids_limit: 64\n`);
    expect(podSpec(a).containers[0].resources).toEqual({ limits: { memory: '512Mi', cpu: '500m', 'grove.io/pids': '64' }, requests: { memory: '128Mi' } });
    const b = web(`    restart: always\n    pids_limit: -1\n    deploy:\n      replicas: 3\n      resources:\n        limits: { memory: 64M, cpus: "1.5" }\n        reservations: { cpus: "0.5" }\n`);
    expect(b.spec.replicas).toBe(3);
    expect(podSpec(b).containers[0].resources).toEqual({ limits: { memory: '64Mi', cpu: '1500m' }, requests: { cpu: '500m' } });
  });

  it('maps deploy.mode global with node label constraints to a DaemonSet with a nodeSelector', () => {
    const o = web(`    restart: always\n    deploy:\n      mode: global\n      placement:\n        constraints: ["node.labels.grove.io/role == sensor"]\n`);
    expect(o.kind).toBe('DaemonSet');
    expect(o.spec.replicas).toBeUndefined();
    expect(podSpec(o).nodeSelector).toEqual({ 'grove.io/role': 'sensor' });
  });

  it('maps network_mode host, stop_grace_period, pull_policy and working_dir', () => {
    const spec = podSpec(web(`    restart: always\n    network_mode: host\n    stop_grace_period: 1m30s\n    pull_policy: always\n    working_dir: /srv\n`));
    expect(spec).toMatchObject({ hostNetwork: true, terminationGracePeriodSeconds: 90 });
    expect(spec.containers[0]).toMatchObject({ imagePullPolicy: 'Always', workingDir: '/srv' });
  });

  it('ignores version and x- extensions, takes name: as the project, and resolves anchors', () => {
    const objects = parse(`version: "3.8"\nname: demo\nx-common: &common\n  image: busybox:1.36\n  mem_limit: 32m\n  restart: always\nservices:\n  a:\n    <<: *common\n    x-note: ignored\n  b:\n    <<: *common\n    command: ["true"]\n`);
    expect(objects.map((o) => [o.metadata.name, podSpec(o).containers[0].image, o.metadata.labels['com.docker.compose.project']])).toEqual([
      ['a', 'busybox:1.36', 'demo'],
      ['b', 'busybox:1.36', 'demo'],
    ]);
  });

  it('interpolates with an empty environment: defaults apply, $$ is a dollar', () => {
    const c = podSpec(web(`    environment:\n      TAG: \${TAG:-stable}\n      ALT: "x\${SET:+yes}"\n    command: ["sh", "-c", "echo $$HOME \${N-\${M:-7}}"]\n`)).containers[0];
    expect(c.env).toEqual([
      { name: 'TAG', value: 'stable' },
      { name: 'ALT', value: 'x' },
    ]);
    expect(c.args).toEqual(['sh', '-c', 'echo $HOME 7']);
  });

  it('maps deploy.update_config onto a rolling update', () => {
    const paused = web('    restart: always\n    deploy:\n      update_config: { parallelism: 2, order: start-first, failure_action: pause, monitor: 90s }\n');
    expect(paused.spec).toMatchObject({ strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 2, maxUnavailable: 0 } }, progressDeadlineSeconds: 90 });
    expect(paused.metadata.annotations).toEqual({ 'grove.io/auto-rollback': 'false' });
    expect(web('    restart: always\n    deploy:\n      update_config: { parallelism: 0 }\n').spec.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxSurge: 0, maxUnavailable: '100%' } });
    const rollback = web('    restart: always\n    deploy:\n      update_config: { failure_action: rollback }\n');
    expect(rollback.spec.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxSurge: 0, maxUnavailable: 1 } });
    expect(rollback.metadata.annotations).toEqual({ 'grove.io/auto-rollback': 'true' });
    expect(webFails('    restart: always\n    deploy:\n      update_config: { delay: 10s }\n')).toContain('services.web.deploy.update_config.delay: not supported yet');
    expect(webFails('    restart: always\n    deploy:\n      update_config: { monitor: soon }\n')).toContain('services.web.deploy.update_config.monitor: "soon" is not a duration');
  });

  it('refuses a known field it does not implement by name, never ignoring it', () => {
    expect(webFails('    storage_opt: { size: 1G }\n')).toContain('services.web.storage_opt: not supported yet');
  });

  describe('rejections', () => {
    it.each([
      ['build', `services:\n  web:\n    build: .\n`, 'compose.yaml:3 (document 1, service "web"): services.web.build: not supported: build the image, push it to a registry'],
      ['an undeclared volume', `services:\n  web:\n    image: busybox\n    volumes: [data:/data]\n`, 'services.web.volumes[0]: volume "data" is not declared under the top-level volumes: (as compose requires)'],
      ['a port range', `services:\n  web:\n    image: busybox\n    ports: ["8080-8081:80"]\n`, 'compose.yaml:4 (document 1, service "web"): services.web.ports[0]: "8080-8081:80": port ranges are not supported'],
      ['an external network', `services:\n  web:\n    image: busybox\nnetworks:\n  shared: { external: true }\n`, "compose.yaml:5 (document 1, compose file): networks.shared.external: true is not supported: a project network exists only inside its project (its namespace); reach another project's service by name (`<service>.<project>`) instead"],
      ['an external volume', `services:\n  web:\n    image: busybox\nvolumes:\n  data: { external: true }\n`, 'volumes.data.external: not supported: Grove creates named volumes on the node itself'],
      ['an unknown field', `services:\n  web:\n    image: busybox\n    comand: ["x"]\n`, 'services.web.comand: unknown field (did you mean command?)'],
      ['no image', `services:\n  web:\n    command: ["x"]\n`, 'services.web.image: required field is missing'],
      ['no services', `services: {}\n`, 'services: must not be empty'],
    ])('rejects %s by name', (_what, text, message) => {
      expect(problems(text)).toContain(message);
    });

    it('rejects service names compose refuses too', () => {
      expect(problems(`services:\n  _app:\n    image: busybox\n`)).toContain(
        `compose.yaml:2 (document 1, service "_app"): services._app: service name "_app" must be at most 63 letters, digits, '_', '.' and '-', starting with a letter or digit`,
      );
    });

    it.each([
      ['a required variable', `    command: echo \${USER:?who are you}\n`, 'variable USER is required: who are you'],
      ['a lone dollar', `    command: echo $1\n`, 'a lone "$" must be written "$$"'],
      ['a shell operator', `    command: echo a && echo b\n`, '"&" is a shell operator, but no shell runs this command'],
      ['an unclosed quote', `    command: echo "a\n`, 'services.web.command: has an unclosed double quote'],
      ['on-failure:x', `    restart: on-failure:x\n`, 'services.web.restart: "on-failure:x" must be one of no, always, on-failure[:N], unless-stopped'],
      ['network_mode service:', `    network_mode: "service:db"\n`, 'services.web.network_mode: "service:db" is not supported: Grove runs each service in pods of its own, possibly on another node, so it cannot join another service\'s network namespace; reach that service by its name instead'],
      ['network_mode container:', `    network_mode: "container:abc"\n`, 'services.web.network_mode: "container:abc" is not supported: Grove runs no containers outside its pods'],
      ['network_mode none', `    network_mode: none\n`, 'services.web.network_mode: "none" is not supported: every Grove pod has a network interface'],
      ['conflicting limits', `    mem_limit: 32m\n    deploy: { resources: { limits: { memory: 64m } } }\n`, 'services.web.deploy.resources.limits.memory: "64m" conflicts with "32m"'],
      ['a bad size', `    mem_limit: 32q\n`, 'services.web.mem_limit: "32q" is not a size'],
      ['a tiny memory limit', `    mem_limit: 1m\n`, 'services.web.mem_limit: "1m" is below the minimum of 6m'],
      ['replicas with global', `    restart: always\n    deploy: { mode: global, replicas: 2 }\n`, 'services.web.deploy.replicas: cannot be combined with mode: global'],
      ['other constraints', `    deploy: { placement: { constraints: ["node.role == manager"] } }\n`, 'services.web.deploy.placement.constraints[0]: "node.role == manager" is not supported yet'],
      ['a bad image', `    image: Busybox\n`, 'services.web.image: invalid image reference "Busybox"'],
    ])('rejects %s', (_what, lines, message) => {
      const text = `services:\n  web:\n${lines.includes('image:') ? '' : '    image: busybox\n'}${lines}`;
      expect(problems(text)).toContain(message);
    });
  });
});
