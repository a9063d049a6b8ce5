/**
 * `$(VAR)` expansion on the node, as the kubelet does it: the syntax (Kubernetes' own expansion
 * test table), env values against envFrom and earlier entries (the "Define dependent environment
 * variables" page), command and args against the final variables, Secret values kept off flash,
 * and 0.1's already-expanded targets not expanded twice.
 */
import { describe, expect, it } from 'vitest';
import { MemoryConfigSource } from '../../agent/src/agent/config-source.js';
import { containerRunSpec } from '../../agent/src/agent/container-run-spec.js';
import { Labels } from '../../agent/src/agent/node-runtime.js';
import { planContainers } from '../../agent/src/agent/plan/containers.js';
import { envFromOf, envOf } from '../../agent/src/agent/plan/pod-fields.js';
import { expandVars } from '../../agent/src/agent/var-expansion.js';
import { resolveEnvBySource } from '../../agent/src/agent/volumes/config-env.js';
import { escapeK8sVars, expandK8sVars } from '../../src/core/manifests/k8s-expand.js';
import { podFromSchema1 } from '../../src/core/wire-target-schema1.js';
import type { EnvVar } from '../../src/core/resolved-pod.js';
import type { PodTarget } from '../../src/core/wire-types.js';
import { container, podTarget } from '../support/pod-target.js';

describe('expansion syntax (Kubernetes third_party/forked/golang/expansion test cases)', () => {
  const vars = new Map([
    ['VAR_A', 'A'],
    ['VAR_B', 'B'],
    ['VAR_C', 'C'],
    ['VAR_REF', '$(VAR_A)'],
    ['VAR_EMPTY', ''],
  ]);
  it.each([
    ['$(VAR_A)', 'A'],
    ['$(VAR_A)-$(VAR_A)', 'A-A'],
    ['$(VAR_A)-$(VAR_B)-$(VAR_B)-$(VAR_B)-$(VAR_A)', 'A-B-B-B-A'],
    ['$(VAR_A)-1', 'A-1'],
    ['___$(VAR_B)___', '___B___'],
    ['___$(VAR_C)', '___C'],
    ['$(VAR_A)_$(VAR_B)_$(VAR_C)', 'A_B_C'],
    ['$$(VAR_B)_$(VAR_A)', '$(VAR_B)_A'],
    ['$$(VAR_A)_$$(VAR_B)', '$(VAR_A)_$(VAR_B)'],
    ['f000-$$VAR_A', 'f000-$VAR_A'],
    ['foo\\$(VAR_C)bar', 'foo\\Cbar'],
    ['foo\\\\$(VAR_C)bar', 'foo\\\\Cbar'],
    ['$(VAR_A$(VAR_B))', '$(VAR_A$(VAR_B))'],
    ['$(VAR_A$(VAR_B)', '$(VAR_A$(VAR_B)'],
    ['$(VAR_REF)', '$(VAR_A)'],
    ['%%$(VAR_REF)--$(VAR_REF)%%', '%%$(VAR_A)--$(VAR_A)%%'],
    ['foo$(VAR_EMPTY)bar', 'foobar'],
    ['foo$(VAR_Awhoops!', 'foo$(VAR_Awhoops!'],
    ['f00__(VAR_A)__', 'f00__(VAR_A)__'],
    ['$?_boo_$!', '$?_boo_$!'],
    ['$VAR_A', '$VAR_A'],
    ['$(VAR_DNE)', '$(VAR_DNE)'],
    ['$$$$$$(BIG_MONEY)', '$$$(BIG_MONEY)'],
    ['$$$$$$(VAR_A)', '$$$(VAR_A)'],
    ['$$$$$$$(GOOD_ODDS)', '$$$$(GOOD_ODDS)'],
    ['$$$$$$$(VAR_A)', '$$$A'],
    ['$VAR_A)', '$VAR_A)'],
    ['${VAR_A}', '${VAR_A}'],
    ['$(VAR_B)_______$(A', 'B_______$(A'],
    ['$(VAR_C)_______$(', 'C_______$('],
    ['$(VAR_A)foobarzab$', 'Afoobarzab$'],
    ['foo-\\$(VAR_A', 'foo-\\$(VAR_A'],
    ['--$($($($($--', '--$($($($($--'],
    ['$($($($($--foo$(', '$($($($($--foo$('],
    ['foo0--$($($($(', 'foo0--$($($($('],
    ['$(foo$$var)', '$(foo$$var)'],
    ['\n', '\n'],
  ])('%j → %j', (text, out) => {
    expect(expandK8sVars(text, vars)).toBe(out);
  });

  it.each(['plain', 'a$$b', '$(X) and $$(Y)', 'cost $(5', 'echo $HOME $', '$$$(A)$', '$((1+2))'])('escapeK8sVars(%j) expands back to itself', (text) => {
    const all = new Map([['X', 'x'], ['Y', 'y'], ['A', 'a']]);
    expect(expandK8sVars(escapeK8sVars(text), all)).toBe(text);
  });

  it('escapes only what expansion would read ("$HOME" stays as written)', () => {
    expect(escapeK8sVars('sh -c "echo $HOME"')).toBe('sh -c "echo $HOME"');
    expect(escapeK8sVars('$(A)$$')).toBe('$$(A)$$$');
  });
});

describe('a container\'s variables (kubelet order)', () => {
  const config = new MemoryConfigSource();
  config.set('ConfigMap', 'settings', { HOST: 'db.lan', REF: '$(PROTOCOL)' });
  config.set('Secret', 'db', { password: 'hunter2' });
  const lit = (name: string, value: string): EnvVar => ({ name, value });

  it('expands env values against the variables before them (the "dependent environment variables" example)', () => {
    const r = resolveEnvBySource(
      [
        lit('SERVICE_PORT', '80'),
        lit('SERVICE_IP', '172.17.0.1'),
        lit('UNCHANGED_REFERENCE', '$(PROTOCOL)://$(SERVICE_IP):$(SERVICE_PORT)'),
        lit('PROTOCOL', 'https'),
        lit('SERVICE_ADDRESS', '$(PROTOCOL)://$(SERVICE_IP):$(SERVICE_PORT)'),
        lit('ESCAPED_REFERENCE', '$$(PROTOCOL)://$(SERVICE_IP):$(SERVICE_PORT)'),
      ],
      undefined,
      config,
    );
    expect(r.plain).toEqual([
      'SERVICE_PORT=80',
      'SERVICE_IP=172.17.0.1',
      'UNCHANGED_REFERENCE=$(PROTOCOL)://172.17.0.1:80',
      'PROTOCOL=https',
      'SERVICE_ADDRESS=https://172.17.0.1:80',
      'ESCAPED_REFERENCE=$(PROTOCOL)://172.17.0.1:80',
    ]);
  });

  it('sees envFrom and valueFrom variables, never expands values read from a ConfigMap or Secret', () => {
    const r = resolveEnvBySource(
      [
        lit('PROTOCOL', 'https'),
        lit('URL', '$(PROTOCOL)://$(HOST)/'),
        { name: 'PW', value: '', valueFrom: { secretKeyRef: { name: 'db', key: 'password' } } },
        lit('DSN', 'postgres://app:$(PW)@$(HOST)'),
        lit('LATER', '$(NOT_YET)'),
        lit('NOT_YET', 'x'),
      ],
      [{ configMapRef: { name: 'settings' } }],
      config,
    );
    expect(r.plain).toEqual(['HOST=db.lan', 'REF=$(PROTOCOL)', 'PROTOCOL=https', 'URL=https://db.lan/', 'LATER=$(NOT_YET)', 'NOT_YET=x']);
    // A value that took in a Secret's is a Secret variable: kept off flash with it.
    expect(r.secret).toEqual(['PW=hunter2', 'DSN=postgres://app:hunter2@db.lan']);
    expect(r.vars.get('DSN')).toEqual({ value: 'postgres://app:hunter2@db.lan', secret: true });
  });

  it('expands command and args against the final variables (later ones too), keeping unknown references', () => {
    const c = container('app', {
      command: ['/bin/echo', '$(MESSAGE)'],
      args: ['$(GREETING) $(NAME)', '$$(NAME)', '$(UNKNOWN)'],
      env: [lit('GREETING', 'Warm greetings to'), lit('NAME', 'The Most Honorable Kubernetes'), lit('MESSAGE', '$(GREETING) $(NAME)')],
    });
    const env = resolveEnvBySource(envOf(c), envFromOf(c), config);
    const spec = containerRunSpec(podTarget('p'), c, env.vars);
    expect(spec.entrypoint).toEqual(['/bin/echo', 'Warm greetings to The Most Honorable Kubernetes']);
    expect(spec.args).toEqual(['Warm greetings to The Most Honorable Kubernetes', '$(NAME)', '$(UNKNOWN)']);
  });

  it('refuses a command line that would carry a Secret value to disk, naming the entry, never the value', () => {
    const c = container('app', { args: ['--password=$(PW)'], env: [{ name: 'PW', valueFrom: { secretKeyRef: { name: 'db', key: 'password' } } }] });
    const env = resolveEnvBySource(envOf(c), envFromOf(c), config);
    expect(() => containerRunSpec(podTarget('p'), c, env.vars)).toThrow(/container app: args\[0\] references a variable from a Secret/);
    try {
      containerRunSpec(podTarget('p'), c, env.vars);
    } catch (err) {
      expect(String(err)).not.toContain('hunter2');
    }
    expect(expandVars('$(PW)', env.vars)).toEqual({ value: 'hunter2', secret: true });
  });
});

describe('0.1 targets (expanded by the 0.1 client) are not expanded twice', () => {
  // 0.1 stored what its client expanded: "$$(A)" was written as "$(A)", "$$" as "$".
  const old: PodTarget = {
    name: 'web-1',
    app: 'web',
    templateHash: 'h0',
    restartPolicy: 'Always',
    hostNetwork: false,
    containers: [
      {
        name: 'app',
        image: 'reg.lan/app:1',
        command: ['/bin/sh', '-c', 'echo $(A) costs $5 $HOME'],
        args: ['a$$b'],
        env: [
          { name: 'A', value: 'one' },
          { name: 'B', value: 'literally $(A)' },
        ],
        resources: {},
      },
    ],
  };

  it('gives a restarted container exactly what 0.1 gave it', () => {
    const p = podFromSchema1(old);
    const c = p.spec.containers[0]!;
    const env = resolveEnvBySource(envOf(c), envFromOf(c), undefined);
    expect(env.plain).toEqual(['A=one', 'B=literally $(A)']);
    const spec = containerRunSpec(p, c, env.vars);
    expect(spec.entrypoint).toEqual(['/bin/sh', '-c', 'echo $(A) costs $5 $HOME']);
    expect(spec.args).toEqual(['a$$b']);
  });

  it('keeps the running 0.1 container (same templateHash: nothing to restart)', () => {
    const p = podFromSchema1(old);
    const running = {
      id: 'c1',
      name: 'web-1_app',
      labels: { [Labels.managed]: 'agent', [Labels.pod]: 'web-1', [Labels.app]: 'web', [Labels.container]: 'app', [Labels.templateHash]: 'h0' },
      image: 'reg.lan/app:1',
      state: 'running' as const,
      exitCode: null,
      oomKilled: false,
      createdAt: '2024-01-01T00:00:00Z',
    };
    expect(planContainers([running], [p])).toEqual([]);
  });
});
