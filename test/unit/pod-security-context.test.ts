/**
 * securityContext end to end on the node's side: what the PodSpec schema and rules admit, the
 * run spec the agent builds from it (container over pod), the OCI config the runtime writes
 * (capabilities as containerd gives them, runAsNonRoot, no_new_privs), and compose's user,
 * read_only, cap_add and cap_drop as the same fields.
 */
import { describe, expect, it } from 'vitest';
import { containerRunSpec } from '../../agent/src/agent/container-run-spec.js';
import type { ContainerSpec } from '../../agent/src/runtime/container-spec.js';
import { buildOciConfig, containerCapabilities, DEFAULT_CAPABILITIES } from '../../agent/src/runtime/oci-config.js';
import { ErrorCode, isGroveError } from '../../src/core/errors.js';
import { manifestsToObjects } from '../../src/core/manifests/manifest-objects.js';
import { pathText } from '../../src/core/objects/explain.js';
import { podSpecProblems } from '../../src/core/objects/pod-rules.js';
import { checkObject } from '../../src/core/objects/validate.js';
import { container, podTarget } from '../support/pod-target.js';

const podWith = (securityContext: Record<string, unknown>) => ({ containers: [{ name: 'app', image: 'busybox:1', securityContext }] });

describe('PodSpec schema and rules', () => {
  const schemaProblems = (spec: unknown): string[] => {
    const r = checkObject('Pod', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec });
    return r.ok ? [] : r.problems.map((p) => `${pathText(p.path)}: ${p.reason}`);
  };

  it('admits the container and pod fields Kubernetes names', () => {
    const full = {
      runAsUser: 1000, runAsGroup: 1000, runAsNonRoot: true, readOnlyRootFilesystem: true,
      capabilities: { add: ['NET_ADMIN', 'CAP_SYS_TIME'], drop: ['ALL'] }, allowPrivilegeEscalation: false,
    };
    expect(schemaProblems(podWith(full))).toEqual([]);
    expect(schemaProblems({ ...podWith({}), securityContext: { runAsUser: 1, runAsGroup: 2, runAsNonRoot: true, supplementalGroups: [3] } })).toEqual([]);
  });

  it('refuses an unknown capability, an id out of range, and what stays unsupported', () => {
    expect(schemaProblems(podWith({ capabilities: { add: ['NET_ADMN'] } }))).toEqual([expect.stringMatching(/capabilities\.add\[0\].*Linux capability such as NET_ADMIN/)]);
    expect(schemaProblems(podWith({ runAsUser: -1 })).join()).toMatch(/runAsUser/);
    expect(schemaProblems(podWith({ runAsUser: 2147483648 })).join()).toMatch(/runAsUser/);
    expect(schemaProblems(podWith({ seLinuxOptions: {} }))).toEqual([expect.stringMatching(/seLinuxOptions.*not supported yet/)]);
    expect(schemaProblems({ ...podWith({}), securityContext: { supplementalGroupsPolicy: 'Strict' } })).toEqual([expect.stringMatching(/supplementalGroupsPolicy.*not supported yet/)]);
  });

  it('refuses what Kubernetes refuses, and runAsNonRoot with runAsUser 0 (which could never start)', () => {
    const rules = (spec: Record<string, unknown>) => podSpecProblems(spec as never).map((p) => `${p.path.join('.')}: ${p.reason}`);
    expect(rules(podWith({ privileged: true, allowPrivilegeEscalation: false }))).toEqual(['containers.0.securityContext.allowPrivilegeEscalation: cannot be false when privileged is true']);
    expect(rules(podWith({ capabilities: { add: ['SYS_ADMIN'] }, allowPrivilegeEscalation: false }))).toEqual(['containers.0.securityContext.allowPrivilegeEscalation: cannot be false when capabilities.add has SYS_ADMIN']);
    expect(rules(podWith({ runAsNonRoot: true, runAsUser: 0 }))).toEqual(['containers.0.securityContext.runAsUser: is 0 (root), and runAsNonRoot is true: the container could never start']);
    const twoContainers = { containers: [{ name: 'a', image: 'busybox:1' }, { name: 'b', image: 'busybox:1' }], securityContext: { runAsUser: 0, runAsNonRoot: true } };
    expect(rules(twoContainers)).toEqual(['securityContext.runAsUser: is 0 (root), and runAsNonRoot is true: the container could never start']);
    // The container's own user overrides the pod's root.
    expect(rules({ ...twoContainers, containers: [{ name: 'a', image: 'busybox:1', securityContext: { runAsUser: 1000 } }] })).toEqual([]);
  });
});

describe('run spec (container-run-spec.ts)', () => {
  const run = (c: Record<string, unknown>, pod: Record<string, unknown> = {}) =>
    containerRunSpec(podTarget('p', { spec: pod.securityContext ? { securityContext: pod.securityContext } : {} }), container('app', { securityContext: c }));

  it('maps runAsUser and runAsGroup to the user, the container\'s winning over the pod\'s', () => {
    expect(run({ runAsUser: 1000 }).user).toBe('1000');
    expect(run({ runAsUser: 1000, runAsGroup: 2000 }).user).toBe('1000:2000');
    expect(run({}, { securityContext: { runAsUser: 5, runAsGroup: 6 } }).user).toBe('5:6');
    expect(run({ runAsUser: 7 }, { securityContext: { runAsUser: 5, runAsGroup: 6 } }).user).toBe('7:6');
    // runAsGroup alone replaces the image user's group.
    expect(run({ runAsGroup: 44 })).toMatchObject({ group: '44' });
    expect(run({ runAsGroup: 44 }).user).toBeUndefined();
    expect(run({}).user).toBeUndefined();
  });

  it('maps runAsNonRoot, readOnlyRootFilesystem, capabilities (as CAP_ names) and allowPrivilegeEscalation', () => {
    expect(run({}, { securityContext: { runAsNonRoot: true } }).runAsNonRoot).toBe(true);
    expect(run({ runAsNonRoot: false }, { securityContext: { runAsNonRoot: true } }).runAsNonRoot).toBeUndefined();
    expect(run({ readOnlyRootFilesystem: true }).readOnlyRootfs).toBe(true);
    expect(run({ capabilities: { add: ['NET_ADMIN', 'CAP_SYS_TIME'], drop: ['ALL'] } })).toMatchObject({ capAdd: ['CAP_NET_ADMIN', 'CAP_SYS_TIME'], capDrop: ['ALL'] });
    expect(run({ allowPrivilegeEscalation: true }).allowPrivilegeEscalation).toBe(true);
    const none = run({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: false });
    for (const k of ['user', 'group', 'runAsNonRoot', 'readOnlyRootfs', 'capAdd', 'capDrop', 'allowPrivilegeEscalation']) expect(none, k).not.toHaveProperty(k);
  });
});

describe('OCI config (the runtime)', () => {
  const spec = (over: Partial<ContainerSpec> = {}): ContainerSpec => ({ id: 'x'.repeat(32), name: 'web', image: 'busybox', imageDigest: 'sha256:' + 'b'.repeat(64), env: [], limits: {}, labels: {}, ...over });
  const passwd = 'root:x:0:0::/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n';
  const group = 'root:x:0:\napp:x:1000:\nvideo:x:44:app\n';
  const read = (p: string) => (p === '/etc/passwd' ? passwd : p === '/etc/group' ? group : undefined);
  const host = { cgroupMode: 'unified' as const, memorySwapSupported: true, nofileHardLimit: 1024, arch: 'amd64', kernel: '6.1.0' };
  const build = (over: Partial<ContainerSpec>, imageUser = '', capBounding?: string) =>
    buildOciConfig(spec(over), { env: [], entrypoint: [], cmd: ['sh'], workingDir: '/', user: imageUser, labels: {} }, host, {
      rootfsPath: '/r',
      cgroupsPath: '/grove/x',
      readRootfsFile: read,
      ...(capBounding !== undefined ? { capBounding } : {}),
    });

  it('gives capabilities as containerd does: defaults, ALL, add then drop', () => {
    expect(containerCapabilities({ name: 'c' }, undefined)).toEqual([...DEFAULT_CAPABILITIES]);
    expect(containerCapabilities({ name: 'c', capAdd: ['CAP_NET_ADMIN'], capDrop: ['CAP_KILL'] }, undefined)).toEqual(
      expect.arrayContaining(['CAP_NET_ADMIN', 'CAP_CHOWN']),
    );
    expect(containerCapabilities({ name: 'c', capAdd: ['CAP_NET_ADMIN'], capDrop: ['CAP_KILL'] }, undefined)).not.toContain('CAP_KILL');
    expect(containerCapabilities({ name: 'c', capAdd: ['CAP_NET_BIND_SERVICE'], capDrop: ['ALL'] }, undefined)).toEqual(['CAP_NET_BIND_SERVICE']);
    expect(containerCapabilities({ name: 'c', capAdd: ['ALL'], capDrop: ['CAP_SYS_ADMIN'] }, '3ff')).toEqual(
      ['CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_SETGID', 'CAP_SETUID', 'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE'],
    );
    // A drop wins over an add of the same capability.
    expect(containerCapabilities({ name: 'c', capAdd: ['CAP_NET_ADMIN'], capDrop: ['CAP_NET_ADMIN'] }, undefined).sort()).toEqual([...DEFAULT_CAPABILITIES].sort());
  });

  it('refuses a capability the agent does not hold (its bounding set), naming it', () => {
    let err: unknown;
    try {
      containerCapabilities({ name: 'c', capAdd: ['CAP_SYS_ADMIN'] }, '3ff');
    } catch (e) {
      err = e;
    }
    expect(isGroveError(err, ErrorCode.ConfigInvalid)).toBe(true);
    expect(String(err)).toContain('CAP_SYS_ADMIN not in this node\'s capability bounding set');
  });

  it('writes the capabilities into every set but inheritable/ambient, and no_new_privs unless escalation is allowed', () => {
    const c = build({ capAdd: ['CAP_NET_ADMIN'], capDrop: ['ALL'] });
    expect(c.process.capabilities).toEqual({ bounding: ['CAP_NET_ADMIN'], effective: ['CAP_NET_ADMIN'], permitted: ['CAP_NET_ADMIN'], inheritable: [], ambient: [] });
    expect(c.process.noNewPrivileges).toBe(true);
    expect(build({ allowPrivilegeEscalation: true }).process.noNewPrivileges).toBe(false);
  });

  it('runs as runAsUser[:runAsGroup], replaces only the group for runAsGroup alone, and keeps the root read-only when asked', () => {
    expect(build({ user: '1000:44' }).process.user).toEqual({ uid: 1000, gid: 44 });
    expect(build({ group: '44' }, 'app').process.user).toEqual({ uid: 1000, gid: 44 });
    expect(build({ group: '44' }).process.user).toEqual({ uid: 0, gid: 44 });
    expect(build({ readOnlyRootfs: true }).root.readonly).toBe(true);
  });

  it('refuses runAsNonRoot when the user is root, by number or by the image\'s USER', () => {
    const refused = (over: Partial<ContainerSpec>, imageUser = '') => {
      try {
        build({ runAsNonRoot: true, ...over }, imageUser);
        return undefined;
      } catch (err) {
        return isGroveError(err, ErrorCode.ConfigInvalid) ? err.message : String(err);
      }
    };
    expect(refused({})).toMatch(/runAsNonRoot is set and it would run as root \(uid 0\)/);
    expect(refused({}, 'root')).toMatch(/runAsNonRoot/);
    expect(refused({ user: '0' })).toMatch(/runAsNonRoot/);
    expect(refused({}, 'app')).toBeUndefined();
    expect(refused({ user: '1000' })).toBeUndefined();
  });
});

describe('compose user, read_only, cap_add, cap_drop', () => {
  const objects = (service: string) => manifestsToObjects([{ path: 'compose.yaml', text: `services:\n  web:\n    image: busybox:1\n    restart: always\n${service}` }]);
  const securityOf = (r: ReturnType<typeof objects>) => (r.objects[0] as unknown as { spec: { template: { spec: { containers: { securityContext?: unknown }[] } } } }).spec.template.spec.containers[0]!.securityContext;

  it('become the container\'s securityContext', () => {
    const r = objects('    user: "1000:1000"\n    read_only: true\n    cap_add: [net_admin, CAP_SYS_TIME]\n    cap_drop: [ALL]\n    privileged: false\n');
    expect(r.problems).toEqual([]);
    expect(securityOf(r)).toEqual({ runAsUser: 1000, runAsGroup: 1000, readOnlyRootFilesystem: true, capabilities: { add: ['NET_ADMIN', 'CAP_SYS_TIME'], drop: ['ALL'] } });
    expect(securityOf(objects('    user: 65534\n'))).toEqual({ runAsUser: 65534 });
  });

  it('refuses a user name and an unknown capability, each at its field', () => {
    const r = objects('    user: nobody\n    cap_add: [NET_ADMN]\n');
    expect(r.problems.map((p) => p.text)).toEqual([
      expect.stringMatching(/services\.web\.user: "nobody" must be a numeric UID\[:GID\].*65534/),
      expect.stringMatching(/services\.web\.cap_add\[0\]: "NET_ADMN" must be a Linux capability/),
    ]);
  });
});
