/**
 * Test-only: decides a syscall against a rendered OCI seccomp filter the way runc and crun
 * load it into libseccomp — rules of one syscall are ORed; within a rule, comparisons of
 * different arguments are ANDed and several comparisons of one argument become separate rules
 * (ORed). Arguments are 64-bit, as the kernel hands them to the filter. Two matching rules
 * with different actions are reported: the profile must never depend on libseccomp's choice.
 */
import type { OciSeccomp, OciSeccompArg, OciSyscallRule } from '../../agent/src/runtime/seccomp/profile.js';

export type Decision = 'allow' | `errno ${number}` | string;

const MASK64 = (1n << 64n) - 1n;

function holds(cmp: OciSeccompArg, args: readonly bigint[]): boolean {
  const a = (args[cmp.index] ?? 0n) & MASK64;
  const v = BigInt(cmp.value);
  switch (cmp.op) {
    case 'SCMP_CMP_EQ': return a === v;
    case 'SCMP_CMP_NE': return a !== v;
    case 'SCMP_CMP_LT': return a < v;
    case 'SCMP_CMP_LE': return a <= v;
    case 'SCMP_CMP_GT': return a > v;
    case 'SCMP_CMP_GE': return a >= v;
    case 'SCMP_CMP_MASKED_EQ': return (a & v) === BigInt(cmp.valueTwo ?? 0);
  }
}

function matches(rule: OciSyscallRule, args: readonly bigint[]): boolean {
  const list = rule.args ?? [];
  const perIndex = new Map<number, number>();
  for (const c of list) perIndex.set(c.index, (perIndex.get(c.index) ?? 0) + 1);
  if ([...perIndex.values()].some((n) => n > 1)) return list.some((c) => holds(c, args));
  return list.every((c) => holds(c, args));
}

function decision(action: string, errno: number | undefined): Decision {
  if (action === 'SCMP_ACT_ALLOW') return 'allow';
  if (action === 'SCMP_ACT_ERRNO') return `errno ${errno ?? 1}`;
  return action;
}

export function decide(filter: OciSeccomp, name: string, args: readonly (number | bigint)[] = []): Decision {
  const big = args.map((a) => BigInt(a));
  const hits = new Set(filter.syscalls.filter((r) => r.names.includes(name) && matches(r, big)).map((r) => decision(r.action, r.errnoRet)));
  if (hits.size > 1) throw new Error(`${name}(${args.join(', ')}) matches rules with different actions: ${[...hits].join(', ')}`);
  return hits.values().next().value ?? decision(filter.defaultAction, filter.defaultErrnoRet);
}

/** Names allowed unconditionally (an ALLOW rule without argument comparisons). */
export function allowedOutright(filter: OciSeccomp): Set<string> {
  return new Set(filter.syscalls.filter((r) => r.action === 'SCMP_ACT_ALLOW' && !r.args?.length).flatMap((r) => r.names));
}
