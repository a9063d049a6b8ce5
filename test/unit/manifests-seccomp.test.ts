/** seccomp profiles in manifests → objects (ported from the 0.1 parser's tests), and the shared seccomp checks. */
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { checkLocalhostProfile, decodeSeccompProfile, parseSecurityOpt } from '../../src/core/seccomp-ref.js';
import { manifestsToObjects } from '../../src/core/manifests/manifest-objects.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
function parse(text: string): any[] {
  const r = manifestsToObjects([{ path: 'app.yaml', text }]);
  expect(r.problems.map((p) => p.text)).toEqual([]);
  return r.objects;
}
const problems = (text: string) => manifestsToObjects([{ path: 'app.yaml', text }]).problems.map((p) => p.text).join('\n');

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
const profiles = (text: string) => parse(text)[0].spec.template.spec.containers.map((c: any) => c.securityContext?.seccompProfile);

describe('Kubernetes securityContext.seccompProfile', () => {
  it('is kept as written at the pod and container level (the node applies the pod\'s where a container has none)', () => {
    const [d] = parse(deployment(UNCONFINED, RUNTIME_DEFAULT, true));
    expect(d.spec.template.spec.securityContext).toEqual({ seccompProfile: { type: 'Unconfined' } });
    expect(profiles(deployment(localhost('profiles/audit.json'), UNCONFINED))).toEqual([{ type: 'Unconfined' }, undefined]);
  });

  it('refuses what Kubernetes refuses, and paths that would leave <data-dir>/seccomp/', () => {
    expect(problems(deployment(undefined, { type: 'Localhost' }))).toContain('securityContext.seccompProfile.localhostProfile: required field is missing');
    expect(problems(deployment({ type: 'Unconfined', localhostProfile: 'x.json' }))).toContain('spec.template.spec.securityContext.seccompProfile.localhostProfile: can only be set when type is Localhost');
    expect(problems(deployment(undefined, localhost('../../etc/x.json')))).toContain('must be a plain path relative to the node\'s <data-dir>/seccomp/');
    expect(problems(deployment(undefined, localhost('/etc/x.json')))).toContain('"/etc/x.json" must be a plain path relative');
    expect(problems(deployment(undefined, { type: 'Default' }))).toContain('must be RuntimeDefault, Unconfined or Localhost');
  });
});

describe('compose security_opt', () => {
  const service = (opts: string) => `services:\n  web:\n    image: busybox\n    restart: always\n    security_opt: ${opts}\n`;
  const seccomp = (opts: string) => profiles(service(opts))[0];

  it("takes docker's spellings", () => {
    expect(seccomp('["seccomp:unconfined"]')).toEqual({ type: 'Unconfined' });
    expect(seccomp('["seccomp=unconfined", "no-new-privileges:true"]')).toEqual({ type: 'Unconfined' });
    expect(seccomp('["seccomp:profiles/strict.json"]')).toEqual({ type: 'Localhost', localhostProfile: 'profiles/strict.json' });
    expect(seccomp('["no-new-privileges"]')).toBeUndefined();
  });

  it('refuses the rest by name', () => {
    expect(problems(service('["apparmor:unconfined"]'))).toContain('security_opt[0]: "apparmor:unconfined" is not supported yet');
    expect(problems(service('["no-new-privileges:false"]'))).toContain('no-new-privileges=false is not supported');
    expect(problems(service('["seccomp:/etc/docker/seccomp.json"]'))).toContain("must be relative to the node's <data-dir>/seccomp/");
    expect(problems(service('["seccomp:unconfined", "seccomp:a.json"]'))).toContain('security_opt[1]: only one seccomp entry is allowed');
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
