import { describe, expect, it } from 'vitest';
import type { App } from '../../src/core/resolved-pod.js';
import { decodeNodeTarget, encodeMessage, makeNodeTarget } from '../../src/core/wire.js';
import { buildNodePods, canonicalJson, templateHash } from '../../src/server/targets.js';
import { validateResources } from '../../src/server/validate.js';
import { parseApps, thrownMessage } from './manifest-fixtures.js';

const parse = (text: string) => parseApps(text);
const message = thrownMessage;

const deployment = (annotations: string, podExtra: string, containerExtra: string) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: sensor
spec:
  selector: { matchLabels: { app: sensor } }
  template:
    metadata:
      labels: { app: sensor }
${annotations}    spec:
${podExtra}      containers:
        - name: reader
          image: busybox
${containerExtra}`;

describe('devices, groups and privileged in manifests', () => {
  it('reads grove.io/devices, supplementalGroups and securityContext.privileged from Kubernetes', () => {
    const [app] = parse(
      deployment(
        '      annotations: { grove.io/devices: "/dev/i2c-1, /dev/ttyUSB0:/dev/gps:rw" }\n',
        '      securityContext: { supplementalGroups: [20, 997] }\n',
        '          securityContext: { privileged: true }\n',
      ),
    );
    expect(app!.spec.template).toMatchObject({
      devices: [
        { hostPath: '/dev/i2c-1', containerPath: '/dev/i2c-1', permissions: 'rwm' },
        { hostPath: '/dev/ttyUSB0', containerPath: '/dev/gps', permissions: 'rw' },
      ],
      supplementalGroups: ['20', '997'],
    });
    expect(app!.spec.template.containers[0]!.privileged).toBe(true);
    // Without any of it nothing is set, so such templates hash as before.
    const [plain] = parse(deployment('', '', '          securityContext: { privileged: false }\n'));
    expect(plain!.spec.template).not.toHaveProperty('devices');
    expect(plain!.spec.template.containers[0]).not.toHaveProperty('privileged');
  });

  it('reads compose devices, group_add and privileged', () => {
    const [app] = parse('services:\n  gps:\n    image: busybox\n    devices: ["/dev/ttyUSB0:/dev/gps"]\n    group_add: [dialout, 997]\n    privileged: true\n');
    expect(app!.spec.template.devices).toEqual([{ hostPath: '/dev/ttyUSB0', containerPath: '/dev/gps', permissions: 'rwm' }]);
    expect(app!.spec.template.supplementalGroups).toEqual(['dialout', '997']);
    expect(app!.spec.template.containers[0]!.privileged).toBe(true);
  });

  it('rejects bad devices and other securityContext fields with the field named', () => {
    expect(message(() => parse(deployment('      annotations: { grove.io/devices: "/etc/passwd" }\n', '', '')))).toContain(
      'spec.template.metadata.annotations["grove.io/devices"]: host path "/etc/passwd" must be under /dev/',
    );
    expect(message(() => parse('services:\n  gps:\n    image: busybox\n    devices: ["/dev/x:/dev/y:rwx"]\n'))).toContain('devices[0]: permissions "rwx"');
    expect(message(() => parse(deployment('', '', '          securityContext: { runAsUser: 1000 }\n')))).toContain('securityContext.runAsUser: not supported yet');
  });

  it('passes the API check unchanged and reaches the node in its target', () => {
    const apps = parse(deployment('      annotations: { grove.io/devices: "/dev/i2c-1:r" }\n', '      securityContext: { supplementalGroups: [997] }\n', '          securityContext: { privileged: true }\n'));
    const validated = validateResources(JSON.parse(JSON.stringify(apps))) as App[];
    expect(validated.map(canonicalJson)).toEqual(apps.map(canonicalJson));
    const pod = { kind: 'Pod' as const, meta: { name: 'sensor-1', labels: {}, annotations: {} }, app: 'sensor', node: 'n', templateHash: templateHash(apps[0]!) };
    const pods = buildNodePods('n', [pod], apps);
    const target = decodeNodeTarget(encodeMessage(makeNodeTarget({ cluster: 'c', node: 'n', revision: 1, pods, issuedAt: new Date(0).toISOString() })));
    expect(target.pods[0]).toMatchObject({ devices: [{ hostPath: '/dev/i2c-1', containerPath: '/dev/i2c-1', permissions: 'r' }], supplementalGroups: ['997'], containers: [{ privileged: true }] });
  });

  it('refuses a hostile device list from the API', () => {
    const [app] = parse(deployment('', '', ''));
    const bad = JSON.parse(JSON.stringify(app));
    bad.spec.template.devices = [{ hostPath: '/dev/../etc/shadow', containerPath: '/dev/x', permissions: 'r' }];
    expect(message(() => validateResources([bad]))).toContain('resources[0].spec.template.devices[0]');
    bad.spec.template.devices = [];
    bad.spec.template.supplementalGroups = ['root; rm -rf /'];
    expect(message(() => validateResources([bad]))).toContain('is not a group name or number');
  });
});
