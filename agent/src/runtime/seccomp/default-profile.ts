/**
 * Grove's default seccomp policy: the policy of Docker's default profile (moby
 * profiles/seccomp, the current one that no longer allows io_uring), written down here grouped
 * by purpose. Everything not listed fails with EPERM.
 *
 * What it refuses to a container with Docker's default capabilities, among others: new
 * namespaces (unshare, setns, clone with CLONE_NEW*), mount and the new mount API, the kernel
 * keyring (keyctl, add_key, request_key), io_uring, bpf, perf_event_open, userfaultfd,
 * kexec, modules, reboot, swap, clock setting, AF_ALG and AF_VSOCK sockets.
 *
 * Where Grove is stricter than Docker (docs/security.md): the socket family check fails closed
 * (see ArgInRanges), and a NETLINK_NETFILTER socket needs CAP_NET_ADMIN (without it, every
 * netfilter request is refused by the kernel anyway, so only attack surface is lost).
 *
 * Names a node's libseccomp does not know yet are skipped by runc and crun, so the list may
 * run ahead of the installed library.
 */
import type { ProfileRule, SeccompProfile } from './profile.js';

/** Reading and writing open files, pipes and the page cache. */
const FILE_IO = [
  'read', 'readv', 'pread64', 'preadv', 'preadv2', 'write', 'writev', 'pwrite64', 'pwritev', 'pwritev2',
  'lseek', '_llseek', 'open', 'openat', 'openat2', 'creat', 'close', 'close_range', 'dup', 'dup2', 'dup3',
  'fcntl', 'fcntl64', 'ioctl', 'flock', 'pipe', 'pipe2', 'sendfile', 'sendfile64', 'splice', 'tee', 'vmsplice',
  'copy_file_range', 'readahead', 'fadvise64', 'fadvise64_64', 'fallocate', 'fsync', 'fdatasync', 'sync',
  'syncfs', 'sync_file_range', 'truncate', 'truncate64', 'ftruncate', 'ftruncate64', 'cachestat',
] as const;

/** Paths, directories, links, modes, owners and times of files; change notification. */
const FILESYSTEM = [
  'access', 'faccessat', 'faccessat2', 'stat', 'stat64', 'lstat', 'lstat64', 'fstat', 'fstat64', 'fstatat64',
  'newfstatat', 'statx', 'statfs', 'statfs64', 'fstatfs', 'fstatfs64', 'getdents', 'getdents64', 'getcwd',
  'chdir', 'fchdir', 'mkdir', 'mkdirat', 'rmdir', 'mknod', 'mknodat', 'link', 'linkat', 'symlink', 'symlinkat',
  'readlink', 'readlinkat', 'rename', 'renameat', 'renameat2', 'unlink', 'unlinkat', 'chmod', 'fchmod',
  'fchmodat', 'fchmodat2', 'chown', 'chown32', 'fchown', 'fchown32', 'fchownat', 'lchown', 'lchown32', 'umask',
  'utime', 'utimes', 'utimensat', 'utimensat_time64', 'futimesat', 'name_to_handle_at', 'inotify_init',
  'inotify_init1', 'inotify_add_watch', 'inotify_rm_watch', 'fanotify_mark', 'statmount', 'listmount',
] as const;

const EXTENDED_ATTRIBUTES = [
  'getxattr', 'lgetxattr', 'fgetxattr', 'getxattrat', 'setxattr', 'lsetxattr', 'fsetxattr', 'setxattrat',
  'listxattr', 'llistxattr', 'flistxattr', 'listxattrat', 'removexattr', 'lremovexattr', 'fremovexattr',
  'removexattrat',
] as const;

const MEMORY = [
  'brk', 'mmap', 'mmap2', 'munmap', 'mremap', 'mprotect', 'madvise', 'mincore', 'msync', 'mlock', 'mlock2',
  'mlockall', 'munlock', 'munlockall', 'remap_file_pages', 'membarrier', 'memfd_create', 'memfd_secret',
  'pkey_alloc', 'pkey_free', 'pkey_mprotect', 'map_shadow_stack', 'mseal',
] as const;

/** Creating, running, waiting for and describing processes and threads. */
const PROCESSES = [
  'fork', 'vfork', 'execve', 'execveat', 'exit', 'exit_group', 'wait4', 'waitid', 'waitpid', 'getpid', 'getppid',
  'gettid', 'getpgid', 'setpgid', 'getpgrp', 'getsid', 'setsid', 'set_tid_address', 'set_robust_list',
  'get_robust_list', 'futex', 'futex_time64', 'futex_waitv', 'futex_wait', 'futex_wake', 'futex_requeue', 'rseq',
  'prctl', 'capget', 'capset', 'getrlimit', 'setrlimit', 'ugetrlimit', 'prlimit64', 'getrusage', 'times',
  'pidfd_open', 'pidfd_send_signal', 'process_mrelease', 'restart_syscall', 'get_thread_area', 'set_thread_area',
  'uretprobe',
] as const;

/** A process may confine itself further. */
const SELF_CONFINEMENT = ['seccomp', 'landlock_create_ruleset', 'landlock_add_rule', 'landlock_restrict_self'] as const;

const SIGNALS = [
  'kill', 'tkill', 'tgkill', 'rt_sigaction', 'rt_sigpending', 'rt_sigprocmask', 'rt_sigqueueinfo', 'rt_sigreturn',
  'rt_sigsuspend', 'rt_sigtimedwait', 'rt_sigtimedwait_time64', 'rt_tgsigqueueinfo', 'sigaltstack', 'signalfd',
  'signalfd4', 'sigprocmask', 'sigreturn', 'pause', 'alarm',
] as const;

/** Reading clocks, sleeping, timers. adjtimex / clock_adjtime only read without CAP_SYS_TIME. */
const TIME = [
  'clock_gettime', 'clock_gettime64', 'clock_getres', 'clock_getres_time64', 'clock_nanosleep',
  'clock_nanosleep_time64', 'nanosleep', 'gettimeofday', 'time', 'adjtimex', 'clock_adjtime', 'clock_adjtime64',
  'getitimer', 'setitimer', 'timer_create', 'timer_delete', 'timer_getoverrun', 'timer_gettime', 'timer_gettime64',
  'timer_settime', 'timer_settime64', 'timerfd_create', 'timerfd_gettime', 'timerfd_gettime64', 'timerfd_settime',
  'timerfd_settime64',
] as const;

const SCHEDULING = [
  'sched_getaffinity', 'sched_setaffinity', 'sched_getattr', 'sched_setattr', 'sched_getparam', 'sched_setparam',
  'sched_getscheduler', 'sched_setscheduler', 'sched_get_priority_max', 'sched_get_priority_min',
  'sched_rr_get_interval', 'sched_rr_get_interval_time64', 'sched_yield', 'getpriority', 'setpriority',
  'ioprio_get', 'ioprio_set', 'getcpu',
] as const;

/** User and group ids (changing them still needs CAP_SETUID / CAP_SETGID). */
const IDENTITY = [
  'getuid', 'getuid32', 'geteuid', 'geteuid32', 'getgid', 'getgid32', 'getegid', 'getegid32', 'getresuid',
  'getresuid32', 'getresgid', 'getresgid32', 'getgroups', 'getgroups32', 'setuid', 'setuid32', 'setgid', 'setgid32',
  'setreuid', 'setreuid32', 'setregid', 'setregid32', 'setresuid', 'setresuid32', 'setresgid', 'setresgid32',
  'setfsuid', 'setfsuid32', 'setfsgid', 'setfsgid32', 'setgroups', 'setgroups32',
] as const;

/** System V IPC and POSIX message queues (in the container's own IPC namespace). */
const IPC = [
  'ipc', 'msgctl', 'msgget', 'msgrcv', 'msgsnd', 'semctl', 'semget', 'semop', 'semtimedop', 'semtimedop_time64',
  'shmat', 'shmctl', 'shmdt', 'shmget', 'mq_open', 'mq_unlink', 'mq_notify', 'mq_getsetattr', 'mq_timedsend',
  'mq_timedsend_time64', 'mq_timedreceive', 'mq_timedreceive_time64',
] as const;

/**
 * Sockets once made (socket itself is filtered below). socketcall is 32-bit x86's multiplexer:
 * its arguments sit in memory seccomp cannot read, so the family check does not hold for
 * 32-bit x86 programs that use it (as with Docker's profile).
 */
const SOCKETS = [
  'socketpair', 'bind', 'connect', 'listen', 'accept', 'accept4', 'getsockname', 'getpeername', 'getsockopt',
  'setsockopt', 'send', 'sendto', 'sendmsg', 'sendmmsg', 'recv', 'recvfrom', 'recvmsg', 'recvmmsg',
  'recvmmsg_time64', 'shutdown', 'socketcall',
] as const;

const EVENTS = [
  'epoll_create', 'epoll_create1', 'epoll_ctl', 'epoll_ctl_old', 'epoll_wait', 'epoll_wait_old', 'epoll_pwait',
  'epoll_pwait2', 'eventfd', 'eventfd2', 'poll', 'ppoll', 'ppoll_time64', 'select', '_newselect', 'pselect6',
  'pselect6_time64',
] as const;

/** Linux AIO. Not io_uring: its setup, enter and register calls are refused (kernel attack surface). */
const ASYNC_IO = ['io_setup', 'io_destroy', 'io_submit', 'io_cancel', 'io_getevents', 'io_pgetevents', 'io_pgetevents_time64'] as const;

const SYSTEM_INFO = ['uname', 'sysinfo', 'getrandom', 'riscv_hwprobe'] as const;

/** Namespaces, mounts and other whole-system operations: only with CAP_SYS_ADMIN. */
const SYS_ADMIN = [
  'bpf', 'clone', 'clone3', 'fanotify_init', 'fsconfig', 'fsmount', 'fsopen', 'fspick', 'lookup_dcookie',
  'lsm_get_self_attr', 'lsm_list_modules', 'lsm_set_self_attr', 'mount', 'mount_setattr', 'move_mount', 'open_tree',
  'perf_event_open', 'quotactl', 'quotactl_fd', 'setdomainname', 'sethostname', 'setns', 'syslog', 'umount',
  'umount2', 'unshare',
] as const;

/** Every namespace flag of clone(2): CLONE_NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET. */
export const CLONE_NAMESPACE_FLAGS = 0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 | 0x40000000;

export const ENOSYS = 38;
export const EPERM = 1;

/** Socket address families: AF_NETLINK, and the two Docker refuses (AF_ALG, AF_VSOCK). */
export const AF_NETLINK = 16;
export const AF_ALG = 38;
export const AF_VSOCK = 40;
/** AF_MCTP, the highest family of Linux 6.x (AF_MAX 46): newer ones are refused until listed. */
export const AF_HIGHEST_KNOWN = 45;
export const NETLINK_NETFILTER = 12;
/** Netlink protocols are below MAX_LINKS (32). */
const NETLINK_HIGHEST = 31;

/** personality(2) values Docker allows: PER_LINUX, PER_LINUX32, UNAME26 with either, and the query 0xffffffff. */
const PERSONALITIES = [0x0, 0x8, 0x20000, 0x20008, 0xffffffff];

const allow = (names: readonly string[], extra: Omit<ProfileRule, 'names' | 'action'> = {}): ProfileRule => ({ names, action: 'SCMP_ACT_ALLOW', ...extra });
const withCap = (cap: string, names: readonly string[]): ProfileRule => allow(names, { includes: { caps: [cap] } });

const ALWAYS_ALLOWED: readonly string[] = [
  ...FILE_IO, ...FILESYSTEM, ...EXTENDED_ATTRIBUTES, ...MEMORY, ...PROCESSES, ...SELF_CONFINEMENT, ...SIGNALS, ...TIME,
  ...SCHEDULING, ...IDENTITY, ...IPC, ...SOCKETS, ...EVENTS, ...ASYNC_IO, ...SYSTEM_INFO,
];

const RULES: readonly ProfileRule[] = [
  allow(ALWAYS_ALLOWED),
  // Before 4.8, ptrace could be used to get around seccomp.
  allow(['process_vm_readv', 'process_vm_writev', 'ptrace'], { includes: { minKernel: [4, 8] } }),

  allow(['socket'], {
    argIn: { index: 0, ranges: [[0, AF_NETLINK - 1], [AF_NETLINK + 1, AF_ALG - 1], [AF_ALG + 1, AF_VSOCK - 1], [AF_VSOCK + 1, AF_HIGHEST_KNOWN]] },
    comment: 'every address family but AF_ALG and AF_VSOCK (as Docker); AF_NETLINK below',
  }),
  allow(['socket'], { args: [{ index: 0, value: AF_NETLINK, op: 'SCMP_CMP_EQ' }], includes: { caps: ['CAP_NET_ADMIN'] } }),
  allow(['socket'], {
    args: [{ index: 0, value: AF_NETLINK, op: 'SCMP_CMP_EQ' }],
    argIn: { index: 2, ranges: [[0, NETLINK_NETFILTER - 1], [NETLINK_NETFILTER + 1, NETLINK_HIGHEST]] },
    excludes: { caps: ['CAP_NET_ADMIN'] },
    comment: 'netlink, but NETLINK_NETFILTER only with CAP_NET_ADMIN (stricter than Docker)',
  }),
  ...PERSONALITIES.map((p) => allow(['personality'], { args: [{ index: 0, value: p, op: 'SCMP_CMP_EQ' }] })),

  // Architecture-specific calls.
  allow(['arm_fadvise64_64', 'arm_sync_file_range', 'sync_file_range2', 'breakpoint', 'cacheflush', 'set_tls'], { includes: { arches: ['arm', 'arm64'] } }),
  allow(['arch_prctl'], { includes: { arches: ['amd64', 'x32'] } }),
  allow(['modify_ldt'], { includes: { arches: ['amd64', 'x32', 'x86'] } }),
  allow(['riscv_flush_icache'], { includes: { arches: ['riscv64'] } }),

  // What a capability the container holds makes usable.
  withCap('CAP_DAC_READ_SEARCH', ['open_by_handle_at']),
  withCap('CAP_SYS_ADMIN', SYS_ADMIN),
  allow(['clone'], {
    args: [{ index: 0, value: CLONE_NAMESPACE_FLAGS, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }],
    excludes: { caps: ['CAP_SYS_ADMIN'] },
    comment: 'threads and processes, but no new namespaces',
  }),
  {
    names: ['clone3'],
    action: 'SCMP_ACT_ERRNO',
    errnoRet: ENOSYS,
    excludes: { caps: ['CAP_SYS_ADMIN'] },
    comment: 'its flags sit in memory seccomp cannot read: ENOSYS makes glibc and musl fall back to clone',
  },
  withCap('CAP_SYS_BOOT', ['reboot']),
  withCap('CAP_SYS_CHROOT', ['chroot']),
  withCap('CAP_SYS_MODULE', ['init_module', 'finit_module', 'delete_module']),
  withCap('CAP_SYS_PACCT', ['acct']),
  withCap('CAP_SYS_PTRACE', ['kcmp', 'pidfd_getfd', 'process_madvise', 'process_vm_readv', 'process_vm_writev', 'ptrace']),
  withCap('CAP_SYS_RAWIO', ['iopl', 'ioperm']),
  withCap('CAP_SYS_TIME', ['settimeofday', 'stime', 'clock_settime', 'clock_settime64']),
  withCap('CAP_SYS_TTY_CONFIG', ['vhangup']),
  withCap('CAP_SYS_NICE', ['get_mempolicy', 'mbind', 'set_mempolicy', 'set_mempolicy_home_node']),
  withCap('CAP_SYSLOG', ['syslog']),
  withCap('CAP_BPF', ['bpf']),
  withCap('CAP_PERFMON', ['perf_event_open']),
];

export const DEFAULT_SECCOMP_PROFILE: SeccompProfile = {
  defaultAction: 'SCMP_ACT_ERRNO',
  defaultErrnoRet: EPERM,
  // A 64-bit node also runs its 32-bit programs: the filter covers both ABIs there.
  archMap: {
    amd64: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
    arm64: ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM'],
    arm: ['SCMP_ARCH_ARM'],
    x86: ['SCMP_ARCH_X86'],
    riscv64: ['SCMP_ARCH_RISCV64'],
  },
  rules: RULES,
};
