/**
 * A seccomp profile file (Localhost profiles, `grove ctr run --security-opt seccomp=FILE`) →
 * a SeccompProfile. Two shapes are accepted, as Docker accepts them: the OCI runtime spec's
 * `linux.seccomp` object, and Docker's profile format (`archMap`, `name`, `includes` /
 * `excludes`, `comment`). Everything is checked; a mistake is one error naming the field, never
 * a profile quietly loaded with less in it. PURE.
 */
import { ErrorCode, GroveError } from '../../../../src/core/errors.js';
import {
  SECCOMP_ACTIONS,
  SECCOMP_FLAGS,
  SECCOMP_OPERATORS,
  type OciSeccompArg,
  type ProfileRule,
  type RuleCondition,
  type SeccompAction,
  type SeccompProfile,
} from './profile.js';

/** Profiles are a few KiB (Docker's default is ~20 KiB as JSON); anything far bigger is a mistake. */
export const MAX_PROFILE_BYTES = 256 * 1024;
const MAX_RULES = 1000;
const MAX_NAMES_PER_RULE = 1000;
const MAX_LIST = 64;
const SYSCALL_NAME = /^[a-z_][a-z0-9_]{0,63}$/;
const CAPABILITY = /^CAP_[A-Z_]{1,32}$/;
const LIBSECCOMP_ARCH = /^[a-z][a-z0-9_]{0,31}$/;

/** SCMP_ARCH_* → libseccomp's native name (moby's nativeToSeccomp, inverted). */
const NATIVE_OF: Record<string, string> = {
  SCMP_ARCH_X86: 'x86',
  SCMP_ARCH_X86_64: 'amd64',
  SCMP_ARCH_X32: 'x32',
  SCMP_ARCH_ARM: 'arm',
  SCMP_ARCH_AARCH64: 'arm64',
  SCMP_ARCH_LOONGARCH64: 'loongarch64',
  SCMP_ARCH_M68K: 'm68k',
  SCMP_ARCH_MIPS: 'mips',
  SCMP_ARCH_MIPS64: 'mips64',
  SCMP_ARCH_MIPS64N32: 'mips64n32',
  SCMP_ARCH_MIPSEL: 'mipsel',
  SCMP_ARCH_MIPSEL64: 'mipsel64',
  SCMP_ARCH_MIPSEL64N32: 'mipsel64n32',
  SCMP_ARCH_PPC: 'ppc',
  SCMP_ARCH_PPC64: 'ppc64',
  SCMP_ARCH_PPC64LE: 'ppc64le',
  SCMP_ARCH_S390: 's390',
  SCMP_ARCH_S390X: 's390x',
  SCMP_ARCH_PARISC: 'parisc',
  SCMP_ARCH_PARISC64: 'parisc64',
  SCMP_ARCH_RISCV64: 'riscv64',
  SCMP_ARCH_SH: 'sh',
  SCMP_ARCH_SHEB: 'sheb',
};

type Obj = Record<string, unknown>;

class ProfileChecker {
  constructor(private readonly source: string) {}

  fail(path: string, why: string): never {
    throw new GroveError(ErrorCode.ConfigInvalid, `seccomp profile ${this.source}: ${path ? `${path}: ` : ''}${why}`, { details: { profile: this.source, field: path } });
  }

  obj(v: unknown, path: string, keys: readonly string[]): Obj {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(path, 'expected an object');
    const o = v as Obj;
    for (const k of Object.keys(o)) if (!keys.includes(k)) this.fail(path ? `${path}.${k}` : k, `unknown field (known: ${keys.join(', ')})`);
    return o;
  }

  list(v: unknown, path: string, max: number): unknown[] {
    if (!Array.isArray(v)) this.fail(path, 'expected an array');
    if (v.length > max) this.fail(path, `more than ${max} entries`);
    return v;
  }

  strings(v: unknown, path: string, max: number, pattern: RegExp, what: string): string[] {
    return this.list(v, path, max).map((s, i) => (typeof s === 'string' && pattern.test(s) ? s : this.fail(`${path}[${i}]`, `expected ${what}`)));
  }

  /** Whole numbers JSON carries exactly: above 2^53 JSON.parse has already rounded them. */
  whole(v: unknown, path: string, max = Number.MAX_SAFE_INTEGER): number {
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0 || v > max) this.fail(path, `expected a whole number from 0 to ${max === Number.MAX_SAFE_INTEGER ? '2^53-1 (larger values are not supported)' : max}`);
    return v;
  }

  oneOf<T extends string>(v: unknown, path: string, allowed: readonly T[]): T {
    if (typeof v !== 'string' || !allowed.includes(v as T)) this.fail(path, `expected one of ${allowed.join(', ')}`);
    return v as T;
  }

  action(v: unknown, path: string): SeccompAction {
    if (v === 'SCMP_ACT_NOTIFY') this.fail(path, 'SCMP_ACT_NOTIFY needs a seccomp agent, which Grove does not run');
    return this.oneOf(v, path, SECCOMP_ACTIONS);
  }

  errno(v: unknown, path: string, action: SeccompAction): number {
    if (action !== 'SCMP_ACT_ERRNO' && action !== 'SCMP_ACT_TRACE') this.fail(path, `only with SCMP_ACT_ERRNO or SCMP_ACT_TRACE, not ${action}`);
    return this.whole(v, path, 65535);
  }

  arg(v: unknown, path: string): OciSeccompArg {
    const o = this.obj(v, path, ['index', 'value', 'valueTwo', 'op']);
    return {
      index: this.whole(o.index, `${path}.index`, 5),
      value: this.whole(o.value ?? 0, `${path}.value`),
      ...(o.valueTwo !== undefined ? { valueTwo: this.whole(o.valueTwo, `${path}.valueTwo`) } : {}),
      op: this.oneOf(o.op, `${path}.op`, SECCOMP_OPERATORS),
    };
  }

  condition(v: unknown, path: string): RuleCondition {
    const o = this.obj(v, path, ['caps', 'arches', 'minKernel']);
    const out: { -readonly [K in keyof RuleCondition]: RuleCondition[K] } = {};
    if (o.caps !== undefined) out.caps = this.strings(o.caps, `${path}.caps`, MAX_LIST, CAPABILITY, 'a capability name (CAP_…)');
    if (o.arches !== undefined) out.arches = this.strings(o.arches, `${path}.arches`, MAX_LIST, LIBSECCOMP_ARCH, 'an architecture name (amd64, arm64, arm, x86 …)');
    if (o.minKernel !== undefined && o.minKernel !== '') {
      const m = typeof o.minKernel === 'string' ? /^(\d{1,3})\.(\d{1,3})$/.exec(o.minKernel) : null;
      if (!m || (m[1] === '0' && m[2] === '0')) this.fail(`${path}.minKernel`, 'expected "<version>.<major revision>", such as "4.8"');
      out.minKernel = [Number(m[1]), Number(m[2])];
    }
    return out;
  }

  rule(v: unknown, path: string): ProfileRule {
    const o = this.obj(v, path, ['names', 'name', 'action', 'errnoRet', 'args', 'comment', 'includes', 'excludes']);
    if (o.name !== undefined && o.names !== undefined) this.fail(path, 'has both name and names: use names');
    const names = o.name !== undefined ? this.strings([o.name], `${path}.name`, 1, SYSCALL_NAME, 'a syscall name') : this.strings(o.names, `${path}.names`, MAX_NAMES_PER_RULE, SYSCALL_NAME, 'a syscall name');
    if (names.length === 0) this.fail(`${path}.names`, 'is empty');
    const action = this.action(o.action, `${path}.action`);
    const args = o.args === undefined || o.args === null ? [] : this.list(o.args, `${path}.args`, 6).map((a, i) => this.arg(a, `${path}.args[${i}]`));
    if (o.comment !== undefined && typeof o.comment !== 'string') this.fail(`${path}.comment`, 'expected a string');
    return {
      names,
      action,
      ...(o.errnoRet !== undefined ? { errnoRet: this.errno(o.errnoRet, `${path}.errnoRet`, action) } : {}),
      ...(args.length ? { args } : {}),
      ...(o.includes !== undefined ? { includes: this.condition(o.includes, `${path}.includes`) } : {}),
      ...(o.excludes !== undefined ? { excludes: this.condition(o.excludes, `${path}.excludes`) } : {}),
    };
  }

  archMap(v: unknown, path: string): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    this.list(v, path, MAX_LIST).forEach((entry, i) => {
      const at = `${path}[${i}]`;
      const o = this.obj(entry, at, ['architecture', 'subArchitectures']);
      const arch = this.oneOf(o.architecture, `${at}.architecture`, Object.keys(NATIVE_OF));
      const subs = o.subArchitectures === undefined || o.subArchitectures === null ? [] : this.list(o.subArchitectures, `${at}.subArchitectures`, MAX_LIST).map((s, j) => this.oneOf(s, `${at}.subArchitectures[${j}]`, Object.keys(NATIVE_OF)));
      out[NATIVE_OF[arch]!] ??= [arch, ...subs];
    });
    return out;
  }
}

/** Parses and checks a profile; `source` names it in errors (the path as the user wrote it). */
export function parseSeccompProfile(text: string, source: string): SeccompProfile {
  const check = new ProfileChecker(source);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new GroveError(ErrorCode.ConfigInvalid, `seccomp profile ${source} is not valid JSON: ${err instanceof Error ? err.message : String(err)}`, { cause: err, details: { profile: source } });
  }
  const o = check.obj(raw, '', ['defaultAction', 'defaultErrnoRet', 'architectures', 'archMap', 'flags', 'syscalls', 'listenerPath', 'listenerMetadata']);
  if (o.listenerPath !== undefined || o.listenerMetadata !== undefined) check.fail('listenerPath', 'seccomp agents (SCMP_ACT_NOTIFY) are not supported');
  if (o.architectures !== undefined && o.archMap !== undefined) check.fail('', "has both architectures and archMap: use one");
  const defaultAction = check.action(o.defaultAction, 'defaultAction');
  const rules = o.syscalls === undefined || o.syscalls === null ? [] : check.list(o.syscalls, 'syscalls', MAX_RULES).map((r, i) => check.rule(r, `syscalls[${i}]`));
  return {
    defaultAction,
    ...(o.defaultErrnoRet !== undefined ? { defaultErrnoRet: check.errno(o.defaultErrnoRet, 'defaultErrnoRet', defaultAction) } : {}),
    ...(o.architectures !== undefined ? { architectures: check.list(o.architectures, 'architectures', MAX_LIST).map((a, i) => check.oneOf(a, `architectures[${i}]`, Object.keys(NATIVE_OF))) } : {}),
    ...(o.archMap !== undefined ? { archMap: check.archMap(o.archMap, 'archMap') } : {}),
    ...(o.flags !== undefined ? { flags: check.list(o.flags, 'flags', SECCOMP_FLAGS.length).map((f, i) => check.oneOf(f, `flags[${i}]`, SECCOMP_FLAGS)) } : {}),
    rules,
  };
}
