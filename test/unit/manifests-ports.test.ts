/** Container ports in manifests → objects (ported from the 0.1 parser's tests), and compose's port syntax. */
import { describe, expect, it } from 'vitest';
import { parseComposePort } from '../../src/core/manifests/manifest-ports.js';
import { manifestsToObjects } from '../../src/core/manifests/manifest-objects.js';
import { thrownMessage as message } from './thrown-message.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
function parse(text: string): any[] {
  const r = manifestsToObjects([{ path: 'app.yaml', text }]);
  expect(r.problems.map((p) => p.text)).toEqual([]);
  return r.objects;
}
const problems = (text: string) => manifestsToObjects([{ path: 'app.yaml', text }]).problems.map((p) => p.text).join('\n');

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
  it('keeps Kubernetes containers[].ports as written', () => {
    const ports = [{ containerPort: 80, hostPort: 8080, name: 'http' }, { containerPort: 53, protocol: 'UDP', hostPort: 5353, hostIP: '127.0.0.1' }, { containerPort: 9090 }];
    const [d] = parse(deployment(JSON.stringify(ports)));
    expect(d.spec.template.spec.containers[0].ports).toEqual(ports);
  });

  it('refuses SCTP, a bad hostIP, a hostIP without hostPort and one hostPort claimed twice in a pod', () => {
    expect(problems(deployment('[{ containerPort: 80, protocol: SCTP }]'))).toContain('must be TCP or UDP');
    expect(problems(deployment('[{ containerPort: 80, hostPort: 80, hostIP: "::1" }]'))).toContain('hostIP: "::1" must be an IPv4 address');
    expect(problems(deployment('[{ containerPort: 80, hostIP: 1.2.3.4 }]'))).toContain('ports[0].hostIP: needs hostPort');
    const second = '        - name: other\n          image: busybox\n          ports: [{ containerPort: 81, hostPort: 8080 }]\n';
    expect(problems(deployment('[{ containerPort: 80, hostPort: 8080 }]', second))).toContain(
      'containers[1].ports[0].hostPort: hostPort 8080/TCP is already claimed by container "httpd" of this pod',
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
    const [d] = parse('services:\n  web:\n    image: busybox\n    restart: always\n    ports: ["8080:80", "9000"]\n');
    expect(d.spec.template.spec.containers[0].ports).toEqual([{ hostPort: 8080, containerPort: 80, protocol: 'TCP' }, { containerPort: 9000, protocol: 'TCP' }]);
    const [host] = parse('services:\n  web:\n    image: busybox\n    restart: always\n    network_mode: host\n');
    expect(host.spec.template.spec.hostNetwork).toBe(true);
  });

  it('refuses compose ranges, random host ports, IPv6 and a port published twice', () => {
    expect(message(() => parseComposePort('8000-8010:80'))).toContain('port ranges are not supported');
    expect(message(() => parseComposePort('127.0.0.1::80'))).toContain('random host port');
    expect(message(() => parseComposePort('[::1]:80:80'))).toContain('IPv6');
    expect(message(() => parseComposePort('70000:80'))).toContain('must be a port number 1-65535');
    expect(problems('services:\n  web:\n    image: busybox\n    ports: ["8080:80", "8080:81"]\n')).toContain('services.web.ports[1]: host port 8080/TCP is published twice');
  });
});
