/**
 * A seccomp profile → the OCI `linux.seccomp` of one container: the rules whose conditions
 * hold for its capabilities and the node's architecture and kernel, as Docker resolves its
 * profile (moby profiles/seccomp setupSeccomp), and argument ranges expanded into comparisons
 * runc and crun both load the same way. Pure.
 */
import { ErrorCode, GroveError } from '../../../../src/core/errors.js';
import type { ArgInRanges, OciSeccomp, OciSeccompArg, OciSyscallRule, ProfileRule, RuleCondition, SeccompProfile } from './profile.js';

export interface SeccompTarget {
  /** The container's bounding capabilities (CAP_…). */
  capabilities: readonly string[];
  /** The node's architecture as HostFacts has it (Go names: amd64, arm64, arm, 386 …). */
  arch: string;
  /** The node's kernel release, e.g. "6.1.0-18-arm64". */
  kernel: string;
}

/** Go's architecture names → libseccomp's, which profiles use in `arches` and `archMap`. */
const GO_TO_LIBSECCOMP: Record<string, string> = { '386': 'x86', mipsle: 'mipsel', mips64le: 'mipsel64', loong64: 'loongarch64' };

const ALL_BITS = (1n << 64n) - 1n;

export function libseccompArch(goArch: string): string {
  return GO_TO_LIBSECCOMP[goArch] ?? goArch;
}

/** "6.1.0-18-arm64" → [6, 1]; undefined when the release does not start with two numbers. */
export function kernelVersion(release: string): [number, number] | undefined {
  const m = /^(\d+)\.(\d+)/.exec(release);
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}

function kernelAtLeast(release: string, min: readonly [number, number]): boolean {
  const v = kernelVersion(release);
  // An unreadable version satisfies no minimum: the rule's older-kernel side is the safe one.
  if (!v) return false;
  return v[0] > min[0] || (v[0] === min[0] && v[1] >= min[1]);
}

function includes(c: RuleCondition | undefined, caps: ReadonlySet<string>, arch: string, kernel: string): boolean {
  if (!c) return true;
  if (c.arches?.length && !c.arches.includes(arch)) return false;
  if (c.caps?.length && !c.caps.every((cap) => caps.has(cap))) return false;
  if (c.minKernel && !kernelAtLeast(kernel, c.minKernel)) return false;
  return true;
}

function excludes(c: RuleCondition | undefined, caps: ReadonlySet<string>, arch: string, kernel: string): boolean {
  if (!c) return false;
  if (c.arches?.length && c.arches.includes(arch)) return true;
  if (c.caps?.length && c.caps.some((cap) => caps.has(cap))) return true;
  if (c.minKernel && kernelAtLeast(kernel, c.minKernel)) return true;
  return false;
}

/** A single "≤ hi" for a range from 0, else one 64-bit masked comparison per aligned block (see ArgInRanges). */
export function rangeComparisons(argIn: ArgInRanges): OciSeccompArg[] {
  const out: OciSeccompArg[] = [];
  for (const [lo, hi] of argIn.ranges) {
    if (!(Number.isSafeInteger(lo) && Number.isSafeInteger(hi) && lo >= 0 && lo <= hi && hi < 2 ** 32)) {
      throw new GroveError(ErrorCode.Internal, `seccomp argument range [${lo}, ${hi}] is not a range of 32-bit whole numbers`);
    }
    if (lo === 0) {
      out.push({ index: argIn.index, value: hi, op: 'SCMP_CMP_LE' });
      continue;
    }
    for (let start = lo; start <= hi; ) {
      // The largest block that starts here, is aligned to its size and ends within the range.
      let size = 1;
      while (start % (size * 2) === 0 && start + size * 2 - 1 <= hi) size *= 2;
      out.push({ index: argIn.index, value: ALL_BITS & ~BigInt(size - 1), valueTwo: start, op: 'SCMP_CMP_MASKED_EQ' });
      start += size;
    }
  }
  return out;
}

function ociRules(rule: ProfileRule): OciSyscallRule[] {
  const base: OciSyscallRule = {
    names: [...rule.names],
    action: rule.action,
    ...(rule.errnoRet !== undefined ? { errnoRet: rule.errnoRet } : {}),
  };
  const args = (rule.args ?? []).map((a) => ({ ...a }));
  if (!rule.argIn) return [args.length ? { ...base, args } : base];
  if (args.some((a) => a.index === rule.argIn!.index)) {
    // runc and crun would OR the two comparisons of one argument instead of ANDing them.
    throw new GroveError(ErrorCode.Internal, `seccomp rule for ${rule.names.join(', ')} compares argument ${rule.argIn.index} twice`);
  }
  return rangeComparisons(rule.argIn).map((cmp) => ({ ...base, names: [...rule.names], args: [...args.map((a) => ({ ...a })), cmp] }));
}

export function renderSeccomp(profile: SeccompProfile, target: SeccompTarget): OciSeccomp {
  const arch = libseccompArch(target.arch);
  const caps = new Set(target.capabilities);
  const architectures = profile.architectures ? [...profile.architectures] : profile.archMap?.[arch] ? [...profile.archMap[arch]!] : [];
  const syscalls: OciSyscallRule[] = [];
  for (const rule of profile.rules) {
    if (excludes(rule.excludes, caps, arch, target.kernel) || !includes(rule.includes, caps, arch, target.kernel)) continue;
    syscalls.push(...ociRules(rule));
  }
  return {
    defaultAction: profile.defaultAction,
    ...(profile.defaultErrnoRet !== undefined ? { defaultErrnoRet: profile.defaultErrnoRet } : {}),
    ...(architectures.length ? { architectures } : {}),
    ...(profile.flags?.length ? { flags: [...profile.flags] } : {}),
    syscalls,
  };
}
