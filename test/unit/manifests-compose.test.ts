import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createManifestValidator, parseManifests } from '../../src/core/manifests/index.js';
import type { App } from '../../src/core/resolved-pod.js';

const FIXTURES = new URL('../fixtures/manifests/', import.meta.url);
const fixture = (name: string) => readFileSync(new URL(name, FIXTURES), 'utf8').replaceAll('REGISTRY', 'registry.test:5000');
const validator = createManifestValidator();
const parse = (text: string) => parseManifests(text, { file: 'compose.yaml' }, { validator }) as App[];
/** One service called web with these extra lines (indented for a service body). */
const web = (lines: string) => parse(`services:\n  web:\n    image: busybox\n${lines}`)[0]!;
const fails = (text: string) => () => parse(text);
const webFails = (lines: string) => fails(`services:\n  web:\n    image: busybox\n${lines}`);

describe('compose files', () => {
  it('turns each service of the two-service fixture into a Deployment', () => {
    const [webApp, worker] = parse(fixture('compose-two-services.yaml'));
    expect(webApp).toEqual({
      kind: 'App',
      meta: { name: 'web', labels: {}, annotations: {}, source: { format: 'compose', file: 'compose.yaml', document: 1 } },
      spec: {
        kind: 'Deployment',
        replicas: 1,
        template: {
          labels: {},
          annotations: {},
          nodeSelector: {},
          restartPolicy: 'Always',
          hostNetwork: false,
          containers: [
            {
              name: 'web',
              image: 'registry.test:5000/test/busybox:1',
              args: ['sleep', '3600'],
              env: [{ name: 'MODE', value: 'web' }],
              resources: { memoryBytes: 32 * 2 ** 20, requestMemoryBytes: 32 * 2 ** 20 },
            },
          ],
        },
      },
    } satisfies App);
    expect(worker!.meta.name).toBe('worker');
    expect(worker!.spec.template.containers[0]).toMatchObject({ args: ['sleep', '3601'], env: [{ name: 'MODE', value: 'worker' }] });
  });

  it('maps entrypoint to command and splits strings like a shell', () => {
    const c = web(`    entrypoint: /bin/sh -c\n    command: "'echo hi' \\"a b\\" c\\\\ d ''"\n`).spec.template.containers[0]!;
    expect(c.command).toEqual(['/bin/sh', '-c']);
    expect(c.args).toEqual(['echo hi', 'a b', 'c d', '']);
  });

  it('reads environment and labels as lists or maps, stringifying values', () => {
    const app = web(`    environment:\n      - A=1\n      - B=x=y\n      - EMPTY=\n    labels:\n      team: edge\n      tier: 2\n      flag: true\n`);
    expect(app.spec.template.containers[0]!.env).toEqual([
      { name: 'A', value: '1' },
      { name: 'B', value: 'x=y' },
      { name: 'EMPTY', value: '' },
    ]);
    expect(app.meta.labels).toEqual({ team: 'edge', tier: '2', flag: 'true' });
    expect(app.spec.template.labels).toEqual(app.meta.labels);
    const map = web(`    environment:\n      PORT: 8080\n      DEBUG: false\n    labels: ["a=b", "c"]\n`);
    expect(map.spec.template.containers[0]!.env).toEqual([
      { name: 'PORT', value: '8080' },
      { name: 'DEBUG', value: 'false' },
    ]);
    expect(map.meta.labels).toEqual({ a: 'b', c: '' });
  });

  it.each([
    [undefined, 'Never'],
    ['no', 'Never'],
    ['always', 'Always'],
    ['unless-stopped', 'Always'],
    ['on-failure', 'OnFailure'],
  ])('maps restart %s to %s (compose default is no)', (restart, policy) => {
    expect(web(restart ? `    restart: ${restart}\n` : '').spec.template.restartPolicy).toBe(policy);
  });

  it('reads resources from the service and from deploy, docker units', () => {
    const a = web(`    mem_limit: 512m\n    mem_reservation: 128m\n    cpus: 0.5\n    pids_limit: 64\n`);
    expect(a.spec.template.containers[0]!.resources).toEqual({
      memoryBytes: 512 * 2 ** 20,
      requestMemoryBytes: 128 * 2 ** 20,
      cpus: 0.5,
      requestCpus: 0.5,
      pidsLimit: 64,
    });
    const b = web(`    pids_limit: -1\n    deploy:\n      replicas: 3\n      resources:\n        limits: { memory: 64M, cpus: "1.5" }\n        reservations: { cpus: "0.5" }\n`);
    expect(b.spec.replicas).toBe(3);
    expect(b.spec.template.containers[0]!.resources).toEqual({ memoryBytes: 64 * 2 ** 20, requestMemoryBytes: 64 * 2 ** 20, cpus: 1.5, requestCpus: 0.5 });
  });

  it('maps deploy.mode global with node label constraints to a DaemonSet with a nodeSelector', () => {
    const app = web(`    deploy:\n      mode: global\n      placement:\n        constraints: ["node.labels.grove.io/role == sensor"]\n`);
    expect(app.spec.kind).toBe('DaemonSet');
    expect(app.spec.replicas).toBeUndefined();
    expect(app.spec.template.nodeSelector).toEqual({ 'grove.io/role': 'sensor' });
  });

  it('maps network_mode host, stop_grace_period, pull_policy and working_dir', () => {
    const app = web(`    network_mode: host\n    stop_grace_period: 1m30s\n    pull_policy: always\n    working_dir: /srv\n`);
    expect(app.spec.template.hostNetwork).toBe(true);
    expect(app.spec.template.terminationGracePeriodSeconds).toBe(90);
    expect(app.spec.template.containers[0]).toMatchObject({ imagePullPolicy: 'Always', workingDir: '/srv' });
  });

  it('ignores version, name and x- extensions, and resolves anchors', () => {
    const apps = parse(`version: "3.8"
name: demo
x-common: &common
  image: busybox:1.36
  mem_limit: 32m
services:
  a:
    <<: *common
    x-note: ignored
  b:
    <<: *common
    command: ["true"]
`);
    expect(apps.map((a) => [a.meta.name, a.spec.template.containers[0]!.image])).toEqual([
      ['a', 'docker.io/library/busybox:1.36'],
      ['b', 'docker.io/library/busybox:1.36'],
    ]);
  });

  it('interpolates with an empty environment: defaults apply, $$ is a dollar', () => {
    const c = web(`    environment:\n      TAG: \${TAG:-stable}\n      ALT: "x\${SET:+yes}"\n    command: ["sh", "-c", "echo $$HOME \${N-\${M:-7}}"]\n`).spec.template.containers[0]!;
    expect(c.env).toEqual([
      { name: 'TAG', value: 'stable' },
      { name: 'ALT', value: 'x' },
    ]);
    expect(c.args).toEqual(['sh', '-c', 'echo $HOME 7']);
  });

  describe('rejections', () => {
    it.each([
      ['build', `services:\n  web:\n    build: .\n`, 'compose.yaml:3 (document 1, service "web"): services.web.build: not supported: build the image, push it to a registry'],
      ['an undeclared volume', `services:\n  web:\n    image: busybox\n    volumes: [data:/data]\n`, 'services.web.volumes[0]: volume "data" is not declared under the top-level volumes: (as compose requires)'],
      ['a port range', `services:\n  web:\n    image: busybox\n    ports: ["8080-8081:80"]\n`, 'compose.yaml:4 (document 1, service "web"): services.web.ports[0]: "8080-8081:80": port ranges are not supported'],
      ['cap_add', `services:\n  web:\n    image: busybox\n    cap_add: [NET_ADMIN]\n`, 'services.web.cap_add: not supported yet'],
      ['top-level networks', `services:\n  web:\n    image: busybox\nnetworks:\n  default: {}\n`, 'compose.yaml:4 (document 1, compose file): networks: not supported yet'],
      ['an external volume', `services:\n  web:\n    image: busybox\nvolumes:\n  data: { external: true }\n`, 'volumes.data.external: not supported: Grove creates named volumes on the node itself'],
      ['an unknown field', `services:\n  web:\n    image: busybox\n    comand: ["x"]\n`, 'services.web.comand: unknown field (did you mean command?)'],
      ['no image', `services:\n  web:\n    command: ["x"]\n`, 'services.web.image: required field is missing'],
      ['no services', `services: {}\n`, 'services: must not be empty'],
    ])('rejects %s by name', (_what, text, message) => {
      expect(fails(text)).toThrow(message);
    });

    it('rejects service names that cannot name an app, suggesting one', () => {
      expect(fails(`services:\n  my_app:\n    image: busybox\n`)).toThrow(
        `compose.yaml:2 (document 1, service "my_app"): services.my_app: service name "my_app" must be a DNS label (lowercase letters, digits and '-'): it names the app; rename it to "my-app"`,
      );
      expect(fails(`services:\n  Web:\n    image: busybox\n`)).toThrow('rename it to "web"');
    });

    it.each([
      ['a variable without value', `    environment: [HOME]\n`, 'services.web.environment[0]: "HOME" has no value: Grove has no host environment to take it from; write HOME=value'],
      ['a null map value', `    environment:\n      HOME:\n`, 'services.web.environment.HOME: "HOME" has no value'],
      ['an unset variable', `    command: echo \${USER}\n`, 'services.web.command: variable USER is not set'],
      ['a required variable', `    command: echo \${USER:?who are you}\n`, 'variable USER is required: who are you'],
      ['a lone dollar', `    command: echo $1\n`, 'a lone "$" must be written "$$"'],
      ['a shell operator', `    command: echo a && echo b\n`, '"&" is a shell operator, but no shell runs this command'],
      ['an unclosed quote', `    command: echo "a\n`, 'services.web.command: has an unclosed double quote'],
      ['on-failure:3', `    restart: on-failure:3\n`, 'services.web.restart: "on-failure:3" must be one of no, always, on-failure, unless-stopped'],
      ['a bridge network', `    network_mode: bridge\n`, 'services.web.network_mode: "bridge" is not supported yet: only "host" is'],
      ['conflicting limits', `    mem_limit: 32m\n    deploy: { resources: { limits: { memory: 64m } } }\n`, 'services.web.deploy.resources.limits.memory: "64m" conflicts with "32m"'],
      ['a bad size', `    mem_limit: 32q\n`, 'services.web.mem_limit: "32q" is not a size'],
      ['a tiny memory limit', `    mem_limit: 1m\n`, 'services.web.mem_limit: "1m" is below the minimum of 6m'],
      ['replicas with global', `    deploy: { mode: global, replicas: 2 }\n`, 'services.web.deploy.replicas: cannot be combined with mode: global'],
      ['other constraints', `    deploy: { placement: { constraints: ["node.role == manager"] } }\n`, 'services.web.deploy.placement.constraints[0]: "node.role == manager" is not supported yet'],
      ['a bad image', `    image: Busybox\n`, 'services.web.image: invalid image reference "Busybox"'],
    ])('rejects %s', (_what, lines, message) => {
      const text = `services:\n  web:\n${lines.includes('image:') ? '' : '    image: busybox\n'}${lines}`;
      expect(fails(text)).toThrow(message);
    });
  });

  it('maps deploy.update_config onto a rolling update', () => {
    expect(web('    deploy:\n      update_config: { parallelism: 2, order: start-first, failure_action: pause, monitor: 90s }\n').spec).toMatchObject({
      strategy: { type: 'RollingUpdate', maxSurge: 2, maxUnavailable: 0 },
      autoRollback: false,
      progressDeadlineSeconds: 90,
    });
    expect(web('    deploy:\n      update_config: { parallelism: 0 }\n').spec.strategy).toEqual({ type: 'RollingUpdate', maxSurge: 0, maxUnavailable: '100%' });
    expect(web('    deploy:\n      update_config: { failure_action: rollback }\n').spec).toMatchObject({ strategy: { maxSurge: 0, maxUnavailable: 1 }, autoRollback: true });
    expect(webFails('    deploy:\n      update_config: { delay: 10s }\n')).toThrow(/update_config.delay: not supported yet/);
    expect(webFails('    deploy:\n      update_config: { monitor: soon }\n')).toThrow(/update_config.monitor/);
  });
});
