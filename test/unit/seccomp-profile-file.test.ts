import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, isGroveError } from '../../src/core/errors.js';
import { DEFAULT_CAPABILITIES } from '../../agent/src/runtime/oci-config.js';
import { MAX_PROFILE_BYTES, parseSeccompProfile } from '../../agent/src/runtime/seccomp/profile-parse.js';
import { loadSeccompProfile } from '../../agent/src/runtime/seccomp/profile-load.js';
import { renderSeccomp } from '../../agent/src/runtime/seccomp/render.js';
import { decide } from '../support/seccomp-eval.js';

async function failure(p: Promise<unknown> | (() => unknown)): Promise<{ code: string; message: string } | undefined> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (err) {
    return isGroveError(err) ? { code: err.code, message: err.message } : { code: 'other', message: String(err) };
  }
  return undefined;
}

/** An OCI-shaped profile: log everything, refuse mkdir with EACCES. */
const OCI_PROFILE = {
  defaultAction: 'SCMP_ACT_ALLOW',
  architectures: ['SCMP_ARCH_X86_64'],
  flags: ['SECCOMP_FILTER_FLAG_LOG'],
  syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 }],
};

/** Docker's format: archMap, a legacy `name`, conditions and comments. */
const DOCKER_PROFILE = {
  defaultAction: 'SCMP_ACT_ERRNO',
  defaultErrnoRet: 1,
  archMap: [
    { architecture: 'SCMP_ARCH_X86_64', subArchitectures: ['SCMP_ARCH_X86', 'SCMP_ARCH_X32'] },
    { architecture: 'SCMP_ARCH_AARCH64', subArchitectures: ['SCMP_ARCH_ARM'] },
  ],
  syscalls: [
    { names: ['read', 'write', 'exit_group'], action: 'SCMP_ACT_ALLOW', comment: 'basics' },
    { name: 'arch_prctl', action: 'SCMP_ACT_ALLOW', includes: { arches: ['amd64'] } },
    { names: ['mount'], action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_SYS_ADMIN'] } },
    { names: ['ptrace'], action: 'SCMP_ACT_ALLOW', includes: { minKernel: '4.8' } },
    { names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 8, valueTwo: 0, op: 'SCMP_CMP_EQ' }] },
    { names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: 38, excludes: { caps: ['CAP_SYS_ADMIN'] } },
  ],
};

describe('parseSeccompProfile', () => {
  const target = { capabilities: DEFAULT_CAPABILITIES, arch: 'amd64', kernel: '6.1.0' };

  it('takes an OCI linux.seccomp object as it is', () => {
    const f = renderSeccomp(parseSeccompProfile(JSON.stringify(OCI_PROFILE), 'p.json'), target);
    expect(f).toEqual({ ...OCI_PROFILE, syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 }] });
    expect(decide(f, 'mkdir')).toBe('errno 13');
    expect(decide(f, 'unshare')).toBe('allow');
  });

  it("takes Docker's format and resolves its conditions for the container and the node", () => {
    const profile = parseSeccompProfile(JSON.stringify(DOCKER_PROFILE), 'docker.json');
    const amd64 = renderSeccomp(profile, target);
    expect(amd64.architectures).toEqual(['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
    expect(decide(amd64, 'arch_prctl')).toBe('allow');
    expect(decide(amd64, 'mount')).toBe('errno 1');
    expect(decide(amd64, 'ptrace')).toBe('allow');
    expect(decide(amd64, 'personality', [8])).toBe('allow');
    expect(decide(amd64, 'clone3')).toBe('errno 38');
    const arm64Admin = renderSeccomp(profile, { capabilities: [...DEFAULT_CAPABILITIES, 'CAP_SYS_ADMIN'], arch: 'arm64', kernel: '4.4.0' });
    expect(arm64Admin.architectures).toEqual(['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM']);
    expect(decide(arm64Admin, 'arch_prctl')).toBe('errno 1');
    expect(decide(arm64Admin, 'mount')).toBe('allow');
    expect(decide(arm64Admin, 'ptrace')).toBe('errno 1');
    expect(decide(arm64Admin, 'clone3')).toBe('errno 1');
    expect(JSON.stringify(amd64)).not.toContain('basics');
  });

  it('refuses what would load a different filter than the one written, naming the field', async () => {
    const bad = async (profile: unknown) => failure(() => parseSeccompProfile(typeof profile === 'string' ? profile : JSON.stringify(profile), 'p.json'));
    expect(await bad('{"defaultAction": ')).toMatchObject({ code: ErrorCode.ConfigInvalid, message: expect.stringMatching(/^seccomp profile p\.json is not valid JSON/) });
    expect((await bad({ defaultAction: 'SCMP_ACT_ALOW', syscalls: [] }))?.message).toBe(
      'seccomp profile p.json: defaultAction: expected one of SCMP_ACT_ALLOW, SCMP_ACT_ERRNO, SCMP_ACT_KILL, SCMP_ACT_KILL_PROCESS, SCMP_ACT_KILL_THREAD, SCMP_ACT_TRAP, SCMP_ACT_TRACE, SCMP_ACT_LOG',
    );
    expect((await bad({ defaultAction: 'SCMP_ACT_ERRNO', syscall: [] }))?.message).toMatch(/^seccomp profile p\.json: syscall: unknown field/);
    expect((await bad({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['read'], action: 'SCMP_ACT_NOTIFY' }] }))?.message).toMatch(/syscalls\[0\]\.action: SCMP_ACT_NOTIFY needs a seccomp agent/);
    expect((await bad({ defaultAction: 'SCMP_ACT_ERRNO', listenerPath: '/run/agent.sock' }))?.message).toMatch(/not supported/);
    expect((await bad({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ name: 'read', names: ['write'], action: 'SCMP_ACT_ALLOW' }] }))?.message).toMatch(/both name and names/);
    expect((await bad({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: [], action: 'SCMP_ACT_ALLOW' }] }))?.message).toMatch(/syscalls\[0\]\.names: is empty/);
    expect((await bad({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['read; rm'], action: 'SCMP_ACT_ALLOW' }] }))?.message).toMatch(/names\[0\]: expected a syscall name/);
    expect((await bad({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW', errnoRet: 1 }] }))?.message).toMatch(/errnoRet: only with SCMP_ACT_ERRNO/);
    // 2^64-1 cannot be read exactly from JSON by Node: refused rather than rounded.
    expect((await bad('{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["clone"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":18446744073709551615,"op":"SCMP_CMP_MASKED_EQ"}]}]}'))?.message).toMatch(/args\[0\]\.value: expected a whole number from 0 to 2\^53-1/);
    expect((await bad({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW', args: [{ index: 6, value: 0, op: 'SCMP_CMP_EQ' }] }] }))?.message).toMatch(/index: expected a whole number from 0 to 5/);
    expect((await bad({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW', includes: { minKernel: '4' } }] }))?.message).toMatch(/minKernel/);
    expect((await bad({ defaultAction: 'SCMP_ACT_ERRNO', architectures: ['SCMP_ARCH_X86_64'], archMap: [] }))?.message).toMatch(/both architectures and archMap/);
    expect((await bad({ defaultAction: 'SCMP_ACT_ERRNO', architectures: ['x86_64'] }))?.message).toMatch(/architectures\[0\]: expected one of SCMP_ARCH_X86/);
    expect((await bad([]))?.message).toBe('seccomp profile p.json: expected an object');
  });
});

describe('loadSeccompProfile', () => {
  let root: string;
  let dir: string;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'grove-seccomp-load-'));
    dir = join(root, 'seccomp');
    await mkdir(join(dir, 'profiles'), { recursive: true });
    await writeFile(join(dir, 'profiles', 'log.json'), JSON.stringify(OCI_PROFILE));
    await writeFile(join(root, 'outside.json'), JSON.stringify(OCI_PROFILE));
    await symlink(join(root, 'outside.json'), join(dir, 'escape.json'));
    await symlink('profiles/log.json', join(dir, 'inside-link.json'));
    await writeFile(join(dir, 'big.json'), ' '.repeat(MAX_PROFILE_BYTES + 1));
    await writeFile(join(dir, 'broken.json'), '{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"]}]}');
  });

  afterAll(async () => {
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('reads a Localhost profile under the seccomp directory (symlinks that stay inside too)', async () => {
    expect((await loadSeccompProfile({ type: 'Localhost', localhostProfile: 'profiles/log.json' }, dir))?.defaultAction).toBe('SCMP_ACT_ALLOW');
    expect((await loadSeccompProfile({ type: 'Localhost', localhostProfile: 'inside-link.json' }, dir))?.rules).toHaveLength(1);
  });

  it('nothing to read for the default and Unconfined', async () => {
    expect(await loadSeccompProfile(undefined, dir)).toBeUndefined();
    expect(await loadSeccompProfile({ type: 'Unconfined' }, dir)).toBeUndefined();
  });

  it('a ctr --security-opt file may be anywhere on the node', async () => {
    expect((await loadSeccompProfile({ type: 'File', path: join(root, 'outside.json') }, undefined))?.flags).toEqual(['SECCOMP_FILTER_FLAG_LOG']);
    expect(await failure(loadSeccompProfile({ type: 'File', path: join(root, 'nope.json') }, undefined))).toMatchObject({ code: ErrorCode.NotFound });
  });

  it('refuses, with one clear error each, what must never start a container unconfined', async () => {
    const localhost = (p: string, ...d: [string | undefined] | []) => failure(loadSeccompProfile({ type: 'Localhost', localhostProfile: p }, d.length ? d[0] : dir));
    expect(await localhost('missing.json')).toEqual({ code: ErrorCode.NotFound, message: `seccomp profile Localhost/missing.json: ${dir}/missing.json does not exist on this node` });
    expect(await localhost('escape.json')).toEqual({ code: ErrorCode.PermissionDenied, message: `seccomp profile Localhost/escape.json resolves to ${join(root, 'outside.json')}, outside ${dir}` });
    expect(await localhost('../outside.json')).toMatchObject({ code: ErrorCode.InvalidArgument, message: expect.stringContaining('must stay inside') });
    expect(await localhost('big.json')).toMatchObject({ code: ErrorCode.SizeLimit, message: 'seccomp profile Localhost/big.json is larger than 256 KiB' });
    expect(await localhost('profiles')).toMatchObject({ code: ErrorCode.ConfigInvalid, message: expect.stringContaining('is not a regular file') });
    expect(await localhost('broken.json')).toMatchObject({ code: ErrorCode.ConfigInvalid, message: 'seccomp profile Localhost/broken.json: syscalls[0].action: expected one of SCMP_ACT_ALLOW, SCMP_ACT_ERRNO, SCMP_ACT_KILL, SCMP_ACT_KILL_PROCESS, SCMP_ACT_KILL_THREAD, SCMP_ACT_TRAP, SCMP_ACT_TRACE, SCMP_ACT_LOG' });
    expect(await localhost('log.json', join(root, 'no-such-dir'))).toMatchObject({ code: ErrorCode.NotFound });
    expect(await localhost('log.json', undefined)).toMatchObject({ code: ErrorCode.ConfigInvalid, message: 'seccomp profile Localhost/log.json: this node has no seccomp profile directory' });
  });
});
