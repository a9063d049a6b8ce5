/** Host devices, supplementary groups and privileged in manifests → objects (ported from the 0.1 parser's tests). */
import { describe, expect, it } from 'vitest';
import { manifestsToObjects } from '../../src/core/manifests/manifest-objects.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
function parse(text: string): any[] {
  const r = manifestsToObjects([{ path: 'app.yaml', text }]);
  expect(r.problems.map((p) => p.text)).toEqual([]);
  return r.objects;
}
const problems = (text: string) => manifestsToObjects([{ path: 'app.yaml', text }]).problems.map((p) => p.text).join('\n');

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
  it('keeps grove.io/devices, supplementalGroups and securityContext.privileged of Kubernetes as written', () => {
    const [d] = parse(
      deployment(
        '      annotations: { grove.io/devices: "/dev/i2c-1, /dev/ttyUSB0:/dev/gps:rw" }\n',
        '      securityContext: { supplementalGroups: [20, 997] }\n',
        '          securityContext: { privileged: true }\n',
      ),
    );
    expect(d.spec.template.metadata.annotations).toEqual({ 'grove.io/devices': '/dev/i2c-1, /dev/ttyUSB0:/dev/gps:rw' });
    expect(d.spec.template.spec.securityContext).toEqual({ supplementalGroups: [20, 997] });
    expect(d.spec.template.spec.containers[0].securityContext).toEqual({ privileged: true });
  });

  it('maps compose devices, group_add (numbers and names) and privileged', () => {
    const [d] = parse('services:\n  gps:\n    image: busybox\n    restart: always\n    devices: ["/dev/ttyUSB0:/dev/gps"]\n    group_add: [dialout, 997]\n    privileged: true\n');
    expect(d.spec.template.metadata.annotations).toEqual({ 'grove.io/devices': '/dev/ttyUSB0:/dev/gps', 'grove.io/group-add': 'dialout' });
    expect(d.spec.template.spec.securityContext).toEqual({ supplementalGroups: [997] });
    expect(d.spec.template.spec.containers[0].securityContext).toEqual({ privileged: true });
  });

  it('rejects bad and hostile devices and groups with the field named', () => {
    expect(problems(deployment('      annotations: { grove.io/devices: "/etc/passwd" }\n', '', ''))).toContain(
      'spec.template.metadata.annotations["grove.io/devices"]: host path "/etc/passwd" must be under /dev/',
    );
    expect(problems(deployment('      annotations: { grove.io/devices: "/dev/../etc/shadow:/dev/x:r" }\n', '', ''))).toContain('"/dev/../etc/shadow" must not contain ".."');
    expect(problems('services:\n  gps:\n    image: busybox\n    devices: ["/dev/x:/dev/y:rwx"]\n')).toContain('devices[0]: permissions "rwx"');
    expect(problems('services:\n  gps:\n    image: busybox\n    group_add: ["root; rm -rf /"]\n')).toContain('is not a group name or number');
  });
});
