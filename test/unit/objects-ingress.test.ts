import { describe, expect, it } from 'vitest';
import { checkObject } from '../../src/core/objects/validate.js';
import { pathText } from '../../src/core/objects/explain.js';
import { columnsOf, headersOf } from '../../src/core/objects/columns/index.js';
import { manifestsToObjects } from '../../src/core/manifests/manifest-objects.js';

const ing = (spec: Record<string, unknown>, status?: Record<string, unknown>) => ({ apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'web', namespace: 'default', creationTimestamp: '2026-12-07T10:00:00Z' }, spec, ...(status ? { status } : {}) });
const problems = (spec: Record<string, unknown>) => {
  const r = checkObject('Ingress', ing(spec));
  return r.ok ? [] : r.problems.map((p) => `${pathText(p.path)}: ${p.reason}`);
};
const backend = (port: Record<string, unknown> = { number: 80 }) => ({ service: { name: 'web', port } });
const rule = (path: Record<string, unknown>, host = 'web.example.com') => ({ host, http: { paths: [{ backend: backend(), ...path }] } });

describe('Ingress rules', () => {
  it('accepts host and path rules, a default backend, TLS with a secret', () => {
    expect(problems({ rules: [rule({ path: '/', pathType: 'Prefix' }), rule({ path: '/feed', pathType: 'Exact' }, '*.example.com')], tls: [{ hosts: ['web.example.com'], secretName: 'web-tls' }] })).toEqual([]);
    expect(problems({ defaultBackend: backend({ name: 'http' }) })).toEqual([]);
    expect(problems({ rules: [rule({ pathType: 'ImplementationSpecific' })] })).toEqual([]);
  });

  it('words each problem as Kubernetes does', () => {
    expect(problems({})).toEqual(['spec: Invalid value: either `defaultBackend` or `rules` must be specified']);
    expect(problems({ rules: [rule({ path: 'api', pathType: 'Prefix' })] })).toEqual(['spec.rules[0].http.paths[0].path: Invalid value: "api": must be an absolute path']);
    expect(problems({ rules: [rule({ path: '/a//b', pathType: 'Exact' })] })).toEqual(['spec.rules[0].http.paths[0].path: Invalid value: "/a//b": must not contain \'//\'']);
    expect(problems({ defaultBackend: backend({ name: 'http', number: 80 }) })).toEqual(['spec.defaultBackend.service.port: Invalid value: cannot set both port name & port number']);
    expect(problems({ defaultBackend: backend({}) })).toEqual(['spec.defaultBackend.service.port: Required value: port name or number is required']);
    expect(problems({ rules: [{ host: 'web.example.com' }] })).toEqual(['spec.rules[0].http: Required value: Grove serves HTTP rules only: give http.paths']);
    expect(problems({ rules: [rule({ path: '/', pathType: 'Prefix' })], tls: [{ hosts: ['web.example.com'] }] })).toEqual(['spec.tls[0].secretName: Required value: Grove terminates TLS with a kubernetes.io/tls Secret']);
    expect(problems({ rules: [rule({ path: '/', pathType: 'Regex' })] })[0]).toBe('spec.rules[0].http.paths[0].pathType: must be one of Exact, Prefix, ImplementationSpecific');
    expect(problems({ rules: [rule({ path: '/', pathType: 'Prefix' }, 'Web.Example.com')] })[0]).toContain('spec.rules[0].host: ');
    expect(problems({ defaultBackend: { resource: { kind: 'Bucket', name: 'b' } } })).toContain('spec.defaultBackend.resource: resource backends are not supported: use a Service backend');
  });

  it('prints kubectl\'s columns: NAME CLASS HOSTS ADDRESS PORTS AGE', () => {
    const cols = columnsOf('Ingress');
    expect(headersOf(cols.columns)).toEqual(['NAME', 'CLASS', 'HOSTS', 'ADDRESS', 'PORTS', 'AGE']);
    const now = new Date('2026-12-07T10:05:00Z');
    const plain = ing({ rules: [rule({ path: '/', pathType: 'Prefix' }), rule({ path: '/', pathType: 'Prefix' }, '')] });
    expect(cols.row(plain as never, now)).toEqual(['web', '<none>', 'web.example.com,*', '', '80', '5m']);
    const tls = ing({ ingressClassName: 'grove', defaultBackend: backend(), tls: [{ secretName: 's' }] }, { loadBalancer: { ingress: [{ ip: '192.168.1.20' }, { ip: '192.168.1.21' }] } });
    expect(cols.row(tls as never, now)).toEqual(['web', 'grove', '*', '192.168.1.20,192.168.1.21', '80, 443', '5m']);
    expect(headersOf(columnsOf('IngressClass').columns)).toEqual(['NAME', 'CONTROLLER', 'PARAMETERS', 'AGE']);
  });
});

describe('NetworkPolicy', () => {
  it('is refused by name with the reason, not as an unknown kind', () => {
    const r = manifestsToObjects([{ path: 'np.yaml', text: 'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny-all}\nspec: {podSelector: {}}\n' }]);
    expect(r.problems.map((p) => p.text)).toEqual([expect.stringContaining('kind NetworkPolicy is not supported yet: Grove does not enforce network policies')]);
  });
});
