import { describe, expect, it } from 'vitest';
import { parseComposePort } from '../../src/core/manifests/manifest-ports.js';
import type { App } from '../../src/core/resolved-pod.js';
import { decodeNodeTarget, encodeMessage, makeNodeTarget } from '../../src/core/wire.js';
import { buildNodePods, canonicalJson, templateHash } from '../../src/server/targets.js';
import { validateResources } from '../../src/server/validate.js';
import { parseApps, thrownMessage } from './manifest-fixtures.js';

const parse = (text: string) => parseApps(text);
const message = thrownMessage;

const deployment = (ports: string, second = '') => `apiVersion: apps/v1
kind: Deployment
metadata: { name: web }
spec:
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      containers:
        - name: httpd
          image: busybox
          ports: ${ports}
${second}`;

describe('container ports in manifests', () => {
  it('maps Kubernetes containers[].ports one to one (protocol defaults to TCP)', () => {
    const [app] = parse(deployment('[{ containerPort: 80, hostPort: 8080, name: http }, { containerPort: 53, protocol: UDP, hostPort: 5353, hostIP: 127.0.0.1 }, { containerPort: 9090 }]'));
    expect(app!.spec.template.containers[0]!.ports).toEqual([
      { containerPort: 80, hostPort: 8080, name: 'http', protocol: 'TCP' },
      { containerPort: 53, hostPort: 5353, hostIP: '127.0.0.1', protocol: 'UDP' },
      { containerPort: 9090, protocol: 'TCP' },
    ]);
    const [none] = parse(deployment('[]'));
    expect(none!.spec.template.containers[0]).not.toHaveProperty('ports');
  });

  it('refuses SCTP, a bad hostIP and one hostPort claimed twice in a pod', () => {
    expect(message(() => parse(deployment('[{ containerPort: 80, protocol: SCTP }]')))).toContain('must be TCP or UDP');
    expect(message(() => parse(deployment('[{ containerPort: 80, hostPort: 80, hostIP: "::1" }]')))).toContain('hostIP: "::1" is not an IPv4 address');
    const second = '        - name: other\n          image: busybox\n          ports: [{ containerPort: 81, hostPort: 8080 }]\n';
    expect(message(() => parse(deployment('[{ containerPort: 80, hostPort: 8080 }]', second)))).toContain(
      'containers[1].ports[0]: hostPort 8080/TCP is already claimed by container "httpd" of this pod',
    );
    // Same number, other protocol: two claims that do not collide.
    expect(parse(deployment('[{ containerPort: 80, hostPort: 8080, protocol: UDP }]', second))).toHaveLength(1);
  });

  it('reads compose short and long syntax; a port without a host port is only declared', () => {
    expect(parseComposePort('8080:80')).toEqual({ hostPort: 8080, containerPort: 80, protocol: 'TCP' });
    expect(parseComposePort('127.0.0.1:5353:53/udp')).toEqual({ hostIP: '127.0.0.1', hostPort: 5353, containerPort: 53, protocol: 'UDP' });
    expect(parseComposePort('3000')).toEqual({ containerPort: 3000, protocol: 'TCP' });
    expect(parseComposePort(3000)).toEqual({ containerPort: 3000, protocol: 'TCP' });
    expect(parseComposePort({ target: 80, published: '8080', protocol: 'udp', host_ip: '0.0.0.0' })).toEqual({ containerPort: 80, hostPort: 8080, hostIP: '0.0.0.0', protocol: 'UDP' });
    expect(parseComposePort({ target: 80 })).toEqual({ containerPort: 80, protocol: 'TCP' });
    const [app] = parse('services:\n  web:\n    image: busybox\n    ports: ["8080:80", "9000"]\n');
    expect(app!.spec.template.containers[0]!.ports).toEqual([{ hostPort: 8080, containerPort: 80, protocol: 'TCP' }, { containerPort: 9000, protocol: 'TCP' }]);
    const [host] = parse('services:\n  web:\n    image: busybox\n    network_mode: host\n');
    expect(host!.spec.template.hostNetwork).toBe(true);
  });

  it('refuses compose ranges, random host ports, IPv6 and a port published twice', () => {
    expect(message(() => parseComposePort('8000-8010:80'))).toContain('port ranges are not supported');
    expect(message(() => parseComposePort('127.0.0.1::80'))).toContain('random host port');
    expect(message(() => parseComposePort('[::1]:80:80'))).toContain('IPv6');
    expect(message(() => parseComposePort('70000:80'))).toContain('must be a port number 1-65535');
    expect(message(() => parse('services:\n  web:\n    image: busybox\n    ports: ["8080:80", "8080:81"]\n'))).toContain('services.web.ports[1]: host port 8080/TCP is published twice');
  });

  it('passes the API check unchanged, reaches the node in its target, and is checked there too', () => {
    const apps = parse(deployment('[{ containerPort: 80, hostPort: 8080 }]'));
    const validated = validateResources(JSON.parse(JSON.stringify(apps))) as App[];
    expect(validated.map(canonicalJson)).toEqual(apps.map(canonicalJson));
    const pod = { kind: 'Pod' as const, meta: { name: 'web-1', labels: {}, annotations: {} }, app: 'web', node: 'n', templateHash: templateHash(apps[0]!) };
    const pods = buildNodePods('n', [pod], apps);
    const target = decodeNodeTarget(encodeMessage(makeNodeTarget({ cluster: 'c', node: 'n', revision: 1, pods, issuedAt: new Date(0).toISOString() })));
    expect(target.pods[0]!.containers[0]!.ports).toEqual([{ containerPort: 80, hostPort: 8080, protocol: 'TCP' }]);
    const bad = JSON.parse(JSON.stringify(apps[0]));
    bad.spec.template.containers[0].ports = [{ containerPort: 0 }];
    expect(message(() => validateResources([bad]))).toContain('resources[0].spec.template.containers[0].ports[0].containerPort: expected a port number 1-65535');
    bad.spec.template.containers[0].ports = [{ containerPort: 80, hostPort: 80 }, { containerPort: 81, hostPort: 80 }];
    expect(message(() => validateResources([bad]))).toContain('hostPort 80/TCP is already claimed');
    const badPods = JSON.parse(JSON.stringify(pods));
    badPods[0].containers[0].ports = [{ containerPort: 80, hostIP: '1.2.3.4' }];
    expect(message(() => decodeNodeTarget(encodeMessage(makeNodeTarget({ cluster: 'c', node: 'n', revision: 1, pods: badPods, issuedAt: new Date(0).toISOString() }))))).toContain('needs a hostPort');
  });
});
