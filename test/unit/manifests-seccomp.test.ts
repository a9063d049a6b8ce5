import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { App } from '../../src/core/resolved-pod.js';
import { checkLocalhostProfile, decodeSeccompProfile, parseSecurityOpt } from '../../src/core/seccomp-ref.js';
import { decodeNodeTarget, encodeMessage, makeNodeTarget } from '../../src/core/wire.js';
import { buildNodePods, canonicalJson, templateHash } from '../../src/server/targets.js';
import { validateResources } from '../../src/server/validate.js';
import { parseApps, thrownMessage } from './manifest-fixtures.js';

type Profile = Record<string, string>;
/** A Deployment of two containers, main and side; the profiles given go on the pod and on main. */
function deployment(podProfile?: Profile, mainProfile?: Profile, withInit = false): string {
  const context = (p?: Profile) => (p ? { securityContext: { seccompProfile: p } } : {});
  const containers = [{ name: 'main', image: 'busybox', ...context(mainProfile) }, { name: 'side', image: 'busybox' }];
  const spec = { ...context(podProfile), ...(withInit ? { initContainers: [{ name: 'setup', image: 'busybox' }] } : {}), containers };
  const template = { metadata: { labels: { app: 'web' } }, spec };
  return stringify({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' }, spec: { selector: { matchLabels: { app: 'web' } }, template } });
}
const UNCONFINED = { type: 'Unconfined' };
const RUNTIME_DEFAULT = { type: 'RuntimeDefault' };
const localhost = (localhostProfile: string) => ({ type: 'Localhost', localhostProfile });
const containers = (text: string) => parseApps(text)[0]!.spec.template.containers.map((c) => c.seccompProfile);

/** The target a node gets for the app's one pod, through the API check and the CBOR codec. */
function nodeTarget(app: App) {
  const [validated] = validateResources(JSON.parse(JSON.stringify([app]))) as App[];
  expect(canonicalJson(validated)).toBe(canonicalJson(app));
  const assignment = { kind: 'Pod' as const, meta: { name: 'web-1', labels: {}, annotations: {} }, app: 'web', node: 'n', templateHash: templateHash(app) };
  const pods = buildNodePods('n', [assignment], [app]);
  return decodeNodeTarget(encodeMessage(makeNodeTarget({ cluster: 'c', node: 'n', revision: 1, pods, issuedAt: new Date(0).toISOString() }))).pods[0]!;
}

describe('Kubernetes securityContext.seccompProfile', () => {
  it('RuntimeDefault (written or not) leaves the template as it was: same hash, nothing in the target', () => {
    const plain = parseApps(deployment())[0]!;
    const explicit = parseApps(deployment(RUNTIME_DEFAULT, RUNTIME_DEFAULT))[0]!;
    expect(templateHash(explicit)).toBe(templateHash(plain));
    expect(nodeTarget(plain).containers[0]).not.toHaveProperty('seccompProfile');
  });

  it('the pod level applies to every container (init containers too); a container\'s own wins', () => {
    const app = parseApps(deployment(UNCONFINED, RUNTIME_DEFAULT, true))[0]!;
    expect(app.spec.template.containers.map((c) => c.seccompProfile)).toEqual([undefined, { type: 'Unconfined' }]);
    expect(app.spec.template.initContainers![0]!.seccompProfile).toEqual({ type: 'Unconfined' });
    expect(containers(deployment(localhost('profiles/audit.json'), UNCONFINED))).toEqual([
      { type: 'Unconfined' },
      { type: 'Localhost', localhostProfile: 'profiles/audit.json' },
    ]);
  });

  it('Unconfined and Localhost reach the node in its target, through the API check', () => {
    const app = parseApps(deployment(localhost('strict.json'), UNCONFINED))[0]!;
    expect(nodeTarget(app).containers.map((c) => c.seccompProfile)).toEqual([{ type: 'Unconfined' }, { type: 'Localhost', localhostProfile: 'strict.json' }]);
    expect(templateHash(app)).not.toBe(templateHash(parseApps(deployment())[0]!));
  });

  it('refuses what Kubernetes refuses, and paths that would leave <data-dir>/seccomp/', () => {
    expect(thrownMessage(() => parseApps(deployment(undefined, { type: 'Localhost' })))).toContain('securityContext.seccompProfile.localhostProfile: is required when type is Localhost');
    expect(thrownMessage(() => parseApps(deployment({ type: 'Unconfined', localhostProfile: 'x.json' })))).toContain('spec.template.spec.securityContext.seccompProfile.localhostProfile: can only be set when type is Localhost');
    expect(thrownMessage(() => parseApps(deployment(undefined, localhost('../../etc/x.json'))))).toContain('must stay inside the node\'s <data-dir>/seccomp/');
    expect(thrownMessage(() => parseApps(deployment(undefined, localhost('/etc/x.json'))))).toContain('must be relative');
    expect(thrownMessage(() => parseApps(deployment(undefined, { type: 'Default' })))).toContain('must be RuntimeDefault, Unconfined or Localhost');
  });
});

describe('compose security_opt', () => {
  const service = (opts: string) => `services:\n  web:\n    image: busybox\n    security_opt: ${opts}\n`;
  const seccomp = (opts: string) => parseApps(service(opts))[0]!.spec.template.containers[0]!.seccompProfile;

  it("takes docker's spellings", () => {
    expect(seccomp('["seccomp:unconfined"]')).toEqual({ type: 'Unconfined' });
    expect(seccomp('["seccomp=unconfined", "no-new-privileges:true"]')).toEqual({ type: 'Unconfined' });
    expect(seccomp('["seccomp:profiles/strict.json"]')).toEqual({ type: 'Localhost', localhostProfile: 'profiles/strict.json' });
    expect(seccomp('["no-new-privileges"]')).toBeUndefined();
  });

  it('refuses the rest by name', () => {
    expect(thrownMessage(() => parseApps(service('["apparmor:unconfined"]')))).toContain('security_opt[0]: "apparmor:unconfined" is not supported yet');
    expect(thrownMessage(() => parseApps(service('["no-new-privileges:false"]')))).toContain('no-new-privileges=false is not supported');
    expect(thrownMessage(() => parseApps(service('["seccomp:/etc/docker/seccomp.json"]')))).toContain("must be relative to the node's <data-dir>/seccomp/");
    expect(thrownMessage(() => parseApps(service('["seccomp:unconfined", "seccomp:a.json"]')))).toContain('security_opt[1]: only one seccomp entry is allowed');
  });
});

describe('the shared checks', () => {
  const fail = (path: string, reason: string): never => {
    throw new Error(`${path}: ${reason}`);
  };

  it('decodeSeccompProfile: fresh objects of known fields; RuntimeDefault is nothing', () => {
    expect(decodeSeccompProfile({ type: 'RuntimeDefault' }, 'p', fail)).toBeUndefined();
    expect(decodeSeccompProfile({ type: 'Unconfined' }, 'p', fail)).toEqual({ type: 'Unconfined' });
    expect(decodeSeccompProfile({ type: 'Localhost', localhostProfile: 'a/b.json' }, 'p', fail)).toEqual({ type: 'Localhost', localhostProfile: 'a/b.json' });
    expect(() => decodeSeccompProfile({ type: 'Localhost', localhostProfile: 'a/../../b' }, 'p', fail)).toThrow('p.localhostProfile: "a/../../b" must stay inside');
    expect(() => decodeSeccompProfile({ type: 'Unconfined', extra: 1 }, 'p', fail)).toThrow('p.extra: unknown field');
    expect(() => decodeSeccompProfile('Unconfined', 'p', fail)).toThrow('p: expected {type, localhostProfile?}');
  });

  it('checkLocalhostProfile: plain relative paths only, and short quotes of long values', () => {
    expect(checkLocalhostProfile('a.json', 'f')).toBe('a.json');
    for (const bad of ['', './a.json', 'a//b.json', 'a/', '/a.json', 'a/../b.json', 'a\0b']) expect(() => checkLocalhostProfile(bad, 'f'), bad).toThrow();
    const long = `${'x'.repeat(900)}/../y`;
    expect(() => checkLocalhostProfile(long, 'f')).toThrow(/^f: "x{100}"… \(905 characters\) must stay inside/);
  });

  it('parseSecurityOpt: docker --security-opt values', () => {
    expect(parseSecurityOpt('seccomp=unconfined', '--security-opt')).toEqual({ kind: 'seccomp', unconfined: true });
    expect(parseSecurityOpt('seccomp=/etc/p.json', '--security-opt')).toEqual({ kind: 'seccomp', unconfined: false, profile: '/etc/p.json' });
    expect(parseSecurityOpt('no-new-privileges=true', '--security-opt')).toEqual({ kind: 'no-new-privileges' });
    expect(() => parseSecurityOpt('seccomp', '--security-opt')).toThrow('--security-opt: "seccomp" needs a profile');
    expect(() => parseSecurityOpt('label=disable', '--security-opt')).toThrow('is not supported yet');
  });
});
