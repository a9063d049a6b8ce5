import { describe, expect, it } from 'vitest';
import { ErrorCode, isGroveError } from '../../src/core/errors.js';
import { DEFAULT_CAPABILITIES } from '../../agent/src/runtime/oci-config.js';
import { ALL_CAPABILITIES } from '../../agent/src/runtime/host-access.js';
import { AF_ALG, AF_NETLINK, AF_VSOCK, CLONE_NAMESPACE_FLAGS, DEFAULT_SECCOMP_PROFILE, NETLINK_NETFILTER } from '../../agent/src/runtime/seccomp/default-profile.js';
import { kernelVersion, rangeComparisons, renderSeccomp, type SeccompTarget } from '../../agent/src/runtime/seccomp/render.js';
import { allowedOutright, decide } from '../support/seccomp-eval.js';

const AMD64: SeccompTarget = { capabilities: DEFAULT_CAPABILITIES, arch: 'amd64', kernel: '6.1.0-18-amd64' };
const render = (over: Partial<SeccompTarget> = {}) => renderSeccomp(DEFAULT_SECCOMP_PROFILE, { ...AMD64, ...over });
const withCaps = (...caps: string[]) => render({ capabilities: [...DEFAULT_CAPABILITIES, ...caps] });

const EPERM = 'errno 1';
const ENOSYS = 'errno 38';
const AF_INET = 2;
const SIGCHLD = 17;
const CLONE_NEWUSER = 0x10000000;
const CLONE_THREAD_FLAGS = 0x3d0f00; // what pthread_create passes (VM|FS|FILES|SIGHAND|THREAD|SYSVSEM|SETTLS|…)

describe('the default seccomp profile, rendered for Docker\'s default capabilities', () => {
  const filter = render();

  it('refuses what is not listed with EPERM, on all three x86 ABIs of an amd64 node', () => {
    expect(filter.defaultAction).toBe('SCMP_ACT_ERRNO');
    expect(filter.defaultErrnoRet).toBe(1);
    expect(filter.architectures).toEqual(['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
  });

  it('refuses namespaces, mounts, the keyring, io_uring, bpf, modules and clock setting with EPERM', () => {
    for (const name of ['unshare', 'setns', 'mount', 'umount2', 'fsopen', 'move_mount', 'open_tree', 'pivot_root', 'keyctl', 'add_key', 'request_key',
      'io_uring_setup', 'io_uring_enter', 'io_uring_register', 'bpf', 'perf_event_open', 'userfaultfd', 'init_module', 'finit_module', 'kexec_load',
      'reboot', 'swapon', 'clock_settime', 'settimeofday', 'syslog', 'open_by_handle_at', 'acct', 'quotactl', 'sethostname', 'vhangup', 'iopl', 'mbind']) {
      expect(decide(filter, name), name).toBe(EPERM);
    }
  });

  it('allows what ordinary programs use (busybox, libc start-up, threads, networking)', () => {
    for (const name of ['read', 'write', 'openat', 'execve', 'mmap', 'futex', 'rseq', 'arch_prctl', 'modify_ldt', 'epoll_wait', 'accept4', 'sendto',
      'setuid', 'chroot', 'getrandom', 'statx', 'clock_nanosleep', 'prctl', 'seccomp', 'wait4', 'ptrace', 'process_vm_readv', 'io_submit']) {
      expect(decide(filter, name), name).toBe('allow');
    }
    expect(decide(filter, 'clone', [SIGCHLD])).toBe('allow');
    expect(decide(filter, 'clone', [CLONE_THREAD_FLAGS])).toBe('allow');
  });

  it('clone without namespace flags only; clone3 answers ENOSYS so libc falls back to clone', () => {
    expect(decide(filter, 'clone', [SIGCHLD | CLONE_NEWUSER])).toBe(EPERM);
    expect(decide(filter, 'clone', [CLONE_NAMESPACE_FLAGS])).toBe(EPERM);
    expect(decide(filter, 'clone3')).toBe(ENOSYS);
  });

  it('sockets: every family but AF_ALG and AF_VSOCK; netlink but not NETLINK_NETFILTER', () => {
    expect(decide(filter, 'socket', [AF_INET, 1, 0])).toBe('allow');
    expect(decide(filter, 'socket', [10, 2, 0])).toBe('allow'); // AF_INET6
    expect(decide(filter, 'socket', [1, 1, 0])).toBe('allow'); // AF_UNIX
    expect(decide(filter, 'socket', [17, 3, 0])).toBe('allow'); // AF_PACKET (CAP_NET_RAW decides)
    expect(decide(filter, 'socket', [AF_ALG, 5, 0])).toBe(EPERM);
    expect(decide(filter, 'socket', [AF_VSOCK, 1, 0])).toBe(EPERM);
    expect(decide(filter, 'socket', [AF_NETLINK, 3, 0])).toBe('allow'); // NETLINK_ROUTE: ip addr
    expect(decide(filter, 'socket', [AF_NETLINK, 3, 4])).toBe('allow'); // NETLINK_SOCK_DIAG: ss
    expect(decide(filter, 'socket', [AF_NETLINK, 3, NETLINK_NETFILTER])).toBe(EPERM);
    for (let family = 0; family <= 45; family++) {
      const expected = family === AF_ALG || family === AF_VSOCK ? EPERM : 'allow';
      expect(decide(filter, 'socket', [family, 1, 0]), `family ${family}`).toBe(expected);
    }
  });

  it('fails closed when the upper 32 bits of a 32-bit argument are set (the kernel drops them)', () => {
    const high = 1n << 32n;
    expect(decide(filter, 'socket', [high + BigInt(AF_ALG), 5, 0])).toBe(EPERM);
    expect(decide(filter, 'socket', [high + BigInt(AF_VSOCK), 1, 0])).toBe(EPERM);
    expect(decide(filter, 'socket', [AF_NETLINK, 3, high + BigInt(NETLINK_NETFILTER)])).toBe(EPERM);
    expect(decide(filter, 'socket', [high + BigInt(AF_NETLINK), 3, NETLINK_NETFILTER])).toBe(EPERM);
    expect(decide(filter, 'personality', [high])).toBe(EPERM);
    // No rule compares one argument twice (runc and crun would OR such comparisons), uses > / >=,
    // or masks off the upper 32 bits.
    const upper = ((1n << 32n) - 1n) << 32n;
    for (const r of filter.syscalls) {
      const indexes = (r.args ?? []).map((a) => a.index);
      expect(new Set(indexes).size, r.names.join()).toBe(indexes.length);
      if (!r.names.includes('socket') && !r.names.includes('personality')) continue;
      for (const a of r.args ?? []) {
        expect(['SCMP_CMP_EQ', 'SCMP_CMP_LE', 'SCMP_CMP_MASKED_EQ']).toContain(a.op);
        if (a.op === 'SCMP_CMP_MASKED_EQ') expect(BigInt(a.value) & upper).toBe(upper);
      }
    }
    // Few rules: runc compiles them at every start.
    expect(filter.syscalls.filter((r) => r.names.includes('socket'))).toHaveLength(15);
  });

  it('personality: only Docker\'s values', () => {
    for (const p of [0, 0x8, 0x20000, 0x20008, 0xffffffff]) expect(decide(filter, 'personality', [p])).toBe('allow');
    expect(decide(filter, 'personality', [0x0400000])).toBe(EPERM); // READ_IMPLIES_EXEC
  });

  it('holds each name once per rule, and values as exact 64-bit numbers', () => {
    for (const r of filter.syscalls) {
      expect(new Set(r.names).size).toBe(r.names.length);
      for (const v of (r.args ?? []).flatMap((a) => [a.value, a.valueTwo ?? 0])) {
        expect(typeof v === 'bigint' ? v >= 0n && v < 1n << 64n : Number.isSafeInteger(v) && v >= 0, String(v)).toBe(true);
      }
    }
    const outright = allowedOutright(filter);
    expect(outright.size).toBeGreaterThan(300);
    expect(filter.syscalls.some((r) => 'comment' in r)).toBe(false);
  });
});

describe('rules that follow the container\'s capabilities', () => {
  it('CAP_SYS_ADMIN opens namespaces and mounts (and clone3), as under Docker', () => {
    const f = withCaps('CAP_SYS_ADMIN');
    for (const name of ['unshare', 'setns', 'mount', 'umount2', 'bpf', 'perf_event_open', 'sethostname', 'syslog']) expect(decide(f, name), name).toBe('allow');
    expect(decide(f, 'clone', [SIGCHLD | CLONE_NEWUSER])).toBe('allow');
    expect(decide(f, 'clone3')).toBe('allow');
    expect(decide(f, 'keyctl')).toBe(EPERM);
  });

  it('each capability opens its own calls, which stay refused without it', () => {
    const own: [string, string, number[]?][] = [
      ['CAP_NET_ADMIN', 'socket', [AF_NETLINK, 3, NETLINK_NETFILTER]], ['CAP_SYS_PTRACE', 'kcmp'], ['CAP_SYS_TIME', 'clock_settime'],
      ['CAP_SYS_MODULE', 'finit_module'], ['CAP_SYS_BOOT', 'reboot'], ['CAP_SYS_NICE', 'mbind'], ['CAP_SYS_RAWIO', 'iopl'],
      ['CAP_SYS_PACCT', 'acct'], ['CAP_SYSLOG', 'syslog'], ['CAP_BPF', 'bpf'], ['CAP_PERFMON', 'perf_event_open'],
      ['CAP_DAC_READ_SEARCH', 'open_by_handle_at'], ['CAP_SYS_TTY_CONFIG', 'vhangup'],
    ];
    const plain = render();
    for (const [cap, name, args] of own) {
      expect(decide(withCaps(cap), name, args), `${name} with ${cap}`).toBe('allow');
      expect(decide(plain, name, args), `${name} without ${cap}`).toBe(EPERM);
    }
    expect(decide(withCaps('CAP_BPF'), 'mount')).toBe(EPERM);
  });

  it('a container without CAP_SYS_CHROOT cannot chroot', () => {
    const f = render({ capabilities: DEFAULT_CAPABILITIES.filter((c) => c !== 'CAP_SYS_CHROOT') });
    expect(decide(f, 'chroot')).toBe(EPERM);
  });

  it('every capability: the whole list, with no rule conflicting with another', () => {
    const f = render({ capabilities: ALL_CAPABILITIES });
    for (const name of ['mount', 'reboot', 'ptrace', 'clone3', 'kcmp']) expect(decide(f, name)).toBe('allow');
    expect(decide(f, 'keyctl')).toBe(EPERM); // never in Docker's list
  });
});

describe('architectures and kernels', () => {
  it('arm64 covers the 32-bit ARM ABI and its own calls, not x86 ones', () => {
    const f = render({ arch: 'arm64' });
    expect(f.architectures).toEqual(['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM']);
    expect(decide(f, 'cacheflush')).toBe('allow');
    expect(decide(f, 'set_tls')).toBe('allow');
    expect(decide(f, 'arch_prctl')).toBe(EPERM);
    expect(decide(f, 'modify_ldt')).toBe(EPERM);
  });

  it('32-bit nodes: arm (Raspberry Pi OS armhf) and x86', () => {
    expect(render({ arch: 'arm' }).architectures).toEqual(['SCMP_ARCH_ARM']);
    expect(decide(render({ arch: 'arm' }), 'cacheflush')).toBe('allow');
    const x86 = render({ arch: '386' });
    expect(x86.architectures).toEqual(['SCMP_ARCH_X86']);
    expect(decide(x86, 'modify_ldt')).toBe('allow');
    expect(decide(x86, 'arch_prctl')).toBe(EPERM);
  });

  it('an architecture without a map entry gets the native one only', () => {
    expect(render({ arch: 's390x' }).architectures).toBeUndefined();
  });

  it('ptrace for everyone only from kernel 4.8 (older ones let it get around seccomp)', () => {
    expect(decide(render({ kernel: '4.8.0' }), 'ptrace')).toBe('allow');
    expect(decide(render({ kernel: '4.4.302-rt' }), 'ptrace')).toBe(EPERM);
    expect(decide(render({ kernel: 'unknown' }), 'ptrace')).toBe(EPERM);
    expect(decide(render({ kernel: '4.4.0', capabilities: [...DEFAULT_CAPABILITIES, 'CAP_SYS_PTRACE'] }), 'ptrace')).toBe('allow');
    expect(kernelVersion('6.6.31+rpt-rpi-v8')).toEqual([6, 6]);
    expect(kernelVersion('x')).toBeUndefined();
  });
});

describe('argument ranges', () => {
  it('become "≤ hi" from 0, else one masked comparison of all 64 bits per aligned block', () => {
    const ALL = (1n << 64n) - 1n;
    expect(rangeComparisons({ index: 0, ranges: [[0, 15], [17, 37]] })).toEqual([
      { index: 0, value: 15, op: 'SCMP_CMP_LE' },
      { index: 0, value: ALL, valueTwo: 17, op: 'SCMP_CMP_MASKED_EQ' },
      { index: 0, value: ALL - 1n, valueTwo: 18, op: 'SCMP_CMP_MASKED_EQ' },
      { index: 0, value: ALL - 3n, valueTwo: 20, op: 'SCMP_CMP_MASKED_EQ' },
      { index: 0, value: ALL - 7n, valueTwo: 24, op: 'SCMP_CMP_MASKED_EQ' },
      { index: 0, value: ALL - 3n, valueTwo: 32, op: 'SCMP_CMP_MASKED_EQ' },
      { index: 0, value: ALL - 1n, valueTwo: 36, op: 'SCMP_CMP_MASKED_EQ' },
    ]);
    // Exactly the range: every value in it matches one block, its neighbours none.
    const filter = { defaultAction: 'SCMP_ACT_ERRNO' as const, syscalls: rangeComparisons({ index: 0, ranges: [[5, 1000]] }).map((c) => ({ names: ['x'], action: 'SCMP_ACT_ALLOW' as const, args: [c] })) };
    for (const v of [4, 5, 6, 511, 512, 999, 1000, 1001]) expect(decide(filter, 'x', [v]), String(v)).toBe(v >= 5 && v <= 1000 ? 'allow' : 'errno 1');
  });

  it('refuses ranges that are not 32-bit, reversed, or that compare an argument twice', () => {
    const code = (fn: () => unknown) => {
      try {
        fn();
      } catch (err) {
        return isGroveError(err) ? err.code : 'other';
      }
      return undefined;
    };
    expect(code(() => rangeComparisons({ index: 0, ranges: [[1, 2 ** 32]] }))).toBe(ErrorCode.Internal);
    expect(code(() => rangeComparisons({ index: 0, ranges: [[5, 4]] }))).toBe(ErrorCode.Internal);
    const twice = { ...DEFAULT_SECCOMP_PROFILE, rules: [{ names: ['socket'], action: 'SCMP_ACT_ALLOW' as const, args: [{ index: 0, value: 1, op: 'SCMP_CMP_EQ' as const }], argIn: { index: 0, ranges: [[0, 3]] as [number, number][] } }] };
    expect(code(() => renderSeccomp(twice, AMD64))).toBe(ErrorCode.Internal);
  });
});
