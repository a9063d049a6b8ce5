/** compose's container_name on the node: grove.io/container-name names a one-container pod's container. */
import { describe, expect, it } from 'vitest';
import { containerName, podContainerKeyOf, runtimeContainerName, type ManagedContainer } from '../../agent/src/agent/node-runtime.js';
import type { WirePodTarget } from '../../src/core/objects/wire.js';

const pod = (annotations: Record<string, string> | undefined, containers = ['ha']): WirePodTarget =>
  ({ name: 'ha-7d9f-x2', namespace: 'home', uid: 'u', templateHash: 'h', ...(annotations ? { annotations } : {}), spec: { containers: containers.map((name) => ({ name, image: 'busybox' })) } }) as WirePodTarget;

describe('runtimeContainerName', () => {
  it('is the annotation for the one container of a pod that asks for it', () => {
    expect(runtimeContainerName(pod({ 'grove.io/container-name': 'homeassistant' }), 'ha')).toBe('homeassistant');
  });

  it('is the usual <pod key>_<container> otherwise', () => {
    expect(runtimeContainerName(pod(undefined), 'ha')).toBe(containerName(pod(undefined), 'ha'));
    expect(runtimeContainerName(pod({ 'grove.io/container-name': 'x' }, ['ha', 'side']), 'ha')).toBe('home_ha-7d9f-x2_ha');
    expect(runtimeContainerName(pod({ 'grove.io/container-name': '../etc' }), 'ha')).toBe('home_ha-7d9f-x2_ha');
  });

  it('keys previous logs by the pod whatever the container is called', () => {
    const c = { name: 'homeassistant', labels: { 'grove.pod': 'ha-7d9f-x2', 'grove.container': 'ha', 'grove.namespace': 'home' } } as unknown as ManagedContainer;
    expect(podContainerKeyOf(c)).toBe(containerName(pod(undefined), 'ha'));
  });
});
