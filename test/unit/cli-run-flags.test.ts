import { describe, expect, it } from 'vitest';
import { fixedEnvironment } from '../../src/cli/config/environment.js';
import { resolveTable } from '../../src/cli/config/resolve.js';
import { RUN_OPTIONS, runRequestFromFlags as fromValues } from '../../src/cli/verbs/ctr/run.js';

/** As `grove ctr run` does: the flags read by their option table, then mapped. */
function runRequestFromFlags(image: string, command: string[], flags: Record<string, unknown>) {
  return fromValues(image, command, resolveTable(RUN_OPTIONS, { flags: new Map(Object.entries(flags)), env: fixedEnvironment() }).values);
}

const defaults = {};

describe('ctr run flags', () => {
  it('maps docker-style flags onto a run request', () => {
    const request = runRequestFromFlags('busybox', ['sh', '-c', 'echo hi'], {
      ...defaults,
      memory: '32m',
      cpus: '0.5',
      pids: '64',
      env: ['A=1', 'B=x=y'],
      label: ['team=edge'],
      name: 'web',
      readOnly: true,
    });
    expect(request).toEqual({
      image: 'busybox',
      args: ['sh', '-c', 'echo hi'],
      name: 'web',
      readOnlyRootfs: true,
      env: ['A=1', 'B=x=y'],
      labels: { team: 'edge' },
      limits: { memoryBytes: 32 * 1024 * 1024, cpus: 0.5, pidsLimit: 64 },
      pullMissing: true,
    });
  });

  it.each([
    [{ memory: '32q' }, '--memory: "32q" is not a size'],
    [{ memory: '1m' }, '--memory: the minimum is 6m'],
    [{ cpus: 'x' }, '--cpus'],
    [{ pids: '-1' }, '--pids'],
    [{ env: ['NOEQUALS'] }, '--env: "NOEQUALS" is not KEY=VALUE'],
    [{ label: ['=v'] }, '--label'],
    [{ pull: 'always' }, '--pull'],
  ])('rejects %j with one clear line', (flags, message) => {
    expect(() => runRequestFromFlags('busybox', [], { ...defaults, ...flags })).toThrow(message);
  });
});

describe('ctr run --security-opt', () => {
  it("takes docker's seccomp spellings; a profile path is made absolute", () => {
    expect(runRequestFromFlags('busybox', [], { ...defaults, securityOpt: ['seccomp=unconfined'] }).seccompProfile).toEqual({ type: 'Unconfined' });
    expect(runRequestFromFlags('busybox', [], { ...defaults, securityOpt: ['seccomp:unconfined', 'no-new-privileges'] }).seccompProfile).toEqual({ type: 'Unconfined' });
    expect(runRequestFromFlags('busybox', [], { ...defaults, securityOpt: ['seccomp=/etc/grove/audit.json'] }).seccompProfile).toEqual({ type: 'File', path: '/etc/grove/audit.json' });
    expect(runRequestFromFlags('busybox', [], { ...defaults, securityOpt: ['seccomp=audit.json'] }).seccompProfile).toEqual({ type: 'File', path: `${process.cwd()}/audit.json` });
    expect(runRequestFromFlags('busybox', [], { ...defaults, securityOpt: [] })).not.toHaveProperty('seccompProfile');
  });

  it.each([
    [['seccomp'], '--security-opt: "seccomp" needs a profile'],
    [['seccomp=unconfined', 'seccomp=a.json'], '--security-opt: only one seccomp option is allowed'],
    [['apparmor=unconfined'], '--security-opt: "apparmor=unconfined" is not supported yet'],
  ])('rejects %j with one clear line', (securityOpt, message) => {
    expect(() => runRequestFromFlags('busybox', [], { ...defaults, securityOpt })).toThrow(message);
  });
});
