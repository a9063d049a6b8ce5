import { describe, expect, it } from 'vitest';
import { renderPodHosts } from '../../agent/src/agent/pod-hosts.js';
import { sandboxRequestOf } from '../../agent/src/agent/plan/pod-fields.js';
import { ownHostNames } from '../../agent/src/runtime/pod-sandbox.js';
import { validate } from '../../src/core/objects/validate.js';
import { container, podTarget } from '../support/pod-target.js';

const pod = (name: string, spec: Record<string, unknown> = {}) => podTarget(name, { containers: [container('main', { image: 'reg.lan/app:1' })], spec });

describe('pod hostname, subdomain and setHostnameAsFQDN', () => {
  it('are accepted by the Pod schema (DNS labels), not refused', () => {
    const ok = validate('Pod', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { hostname: 'web-0', subdomain: 'web', setHostnameAsFQDN: true, containers: [{ name: 'a', image: 'busybox' }] } });
    expect(ok.ok).toBe(true);
    const bad = validate('Pod', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { hostname: 'Web_0', containers: [{ name: 'a', image: 'busybox' }] } });
    expect(bad.ok).toBe(false);
  });

  it('the sandbox gets the pod\'s hostname (else its name) and, with a subdomain, the FQDN first on its hosts line', () => {
    expect(sandboxRequestOf(pod('web-x')).hostname).toBe('web-x');
    const req = sandboxRequestOf(pod('web-0', { hostname: 'db-0', subdomain: 'db' }));
    expect(req).toMatchObject({ hostname: 'db-0', subdomain: 'db' });
    expect(ownHostNames(req, 'cluster.local')).toEqual({ hostname: 'db-0', hostNames: ['db-0.db.default.svc.cluster.local', 'db-0'] });
    expect(ownHostNames({ ...req, setHostnameAsFQDN: true }, 'lan')).toEqual({ hostname: 'db-0.db.default.svc.lan', hostNames: ['db-0.db.default.svc.lan', 'db-0'] });
    expect(ownHostNames({ hostname: 'h' }, 'cluster.local')).toEqual({ hostname: 'h', hostNames: ['h'] });
    expect(() => ownHostNames({ hostname: 'a'.repeat(40), subdomain: 'b'.repeat(20), setHostnameAsFQDN: true }, 'cluster.local')).toThrow(/longer than 64/);
  });

  it('/etc/hosts keeps the pod\'s own names when it is rewritten', () => {
    const files = renderPodHosts([{ pod: 'web-0', app: 'web', networkKey: 'bridge', hostNetwork: false, ip: '10.42.0.7', ports: [], ready: true, createdAt: '2026-01-01T00:00:00.000Z', hostNames: ['web-0.web.default.svc.cluster.local', 'web-0'] }]);
    expect(files.get('web-0')).toContain('10.42.0.7\tweb-0.web.default.svc.cluster.local\tweb-0\n');
  });
});
