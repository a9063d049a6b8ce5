/**
 * The shapes of a seccomp policy. Two levels:
 *
 * - `SeccompProfile`: a policy as written, with rules that apply only for some capabilities,
 *   host architectures or kernels (Docker's `includes` / `excludes`). Grove's default profile
 *   (default-profile.ts) and Localhost profile files (profile-parse.ts) both become one.
 * - `OciSeccomp`: the OCI runtime spec's `linux.seccomp`, what runc and crun load. render.ts
 *   turns a profile into one for a container's capabilities and the node's architecture.
 */

export const SECCOMP_ACTIONS = [
  'SCMP_ACT_ALLOW',
  'SCMP_ACT_ERRNO',
  'SCMP_ACT_KILL',
  'SCMP_ACT_KILL_PROCESS',
  'SCMP_ACT_KILL_THREAD',
  'SCMP_ACT_TRAP',
  'SCMP_ACT_TRACE',
  'SCMP_ACT_LOG',
] as const;
export type SeccompAction = (typeof SECCOMP_ACTIONS)[number];

export const SECCOMP_OPERATORS = ['SCMP_CMP_NE', 'SCMP_CMP_LT', 'SCMP_CMP_LE', 'SCMP_CMP_EQ', 'SCMP_CMP_GE', 'SCMP_CMP_GT', 'SCMP_CMP_MASKED_EQ'] as const;
export type SeccompOperator = (typeof SECCOMP_OPERATORS)[number];

/** Filter flags runc (1.1+) and crun both know. */
export const SECCOMP_FLAGS = ['SECCOMP_FILTER_FLAG_TSYNC', 'SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW'] as const;

/**
 * One comparison of a syscall argument. For SCMP_CMP_MASKED_EQ, `value` is the mask and
 * `valueTwo` what the masked argument must equal (the OCI spec's and libseccomp's order).
 * Values are 64-bit: those above 2^53 are bigints, written exactly by ociConfigJson.
 */
export interface OciSeccompArg {
  index: number;
  value: number | bigint;
  valueTwo?: number | bigint;
  op: SeccompOperator;
}

export interface OciSyscallRule {
  names: string[];
  action: SeccompAction;
  errnoRet?: number;
  /** ANDed when their indexes differ (runc and crun OR several comparisons of one index). */
  args?: OciSeccompArg[];
}

/** The OCI runtime spec's linux.seccomp. */
export interface OciSeccomp {
  defaultAction: SeccompAction;
  defaultErrnoRet?: number;
  architectures?: string[];
  flags?: string[];
  syscalls: OciSyscallRule[];
}

/** When a rule applies (Docker's `includes`) or does not (`excludes`). */
export interface RuleCondition {
  /** Capabilities of the container's bounding set: includes needs all, excludes any. */
  caps?: readonly string[];
  /** libseccomp's names for the node's architecture: amd64, x86, x32, arm, arm64 … */
  arches?: readonly string[];
  /** [version, major revision]: 4.8 is [4, 8]. */
  minKernel?: readonly [number, number];
}

/**
 * An argument that must lie in one of the inclusive `ranges`. Rendered as one SCMP_CMP_LE for
 * a range from 0, else one SCMP_CMP_MASKED_EQ per aligned power-of-two block (17..37 is 17,
 * 18-19, 20-23, 24-31, 32-35, 36-37), each masking all 64 bits. Both fail closed when a caller
 * sets the upper 32 bits of a 32-bit argument (the kernel drops them, seccomp sees them),
 * which a "greater than" comparison would let through. Few rules matter: runc compiles the
 * filter at every start, and each rule costs time there (docs/security.md has the figures).
 */
export interface ArgInRanges {
  index: number;
  ranges: readonly (readonly [number, number])[];
}

export interface ProfileRule {
  names: readonly string[];
  action: SeccompAction;
  errnoRet?: number;
  args?: readonly OciSeccompArg[];
  argIn?: ArgInRanges;
  includes?: RuleCondition;
  excludes?: RuleCondition;
  /** Why the rule is there (kept out of the rendered config). */
  comment?: string;
}

export interface SeccompProfile {
  defaultAction: SeccompAction;
  defaultErrnoRet?: number;
  /** Native architecture (libseccomp name) → the SCMP_ARCH_* list the filter covers there. */
  archMap?: Readonly<Record<string, readonly string[]>>;
  /** A fixed SCMP_ARCH_* list (an OCI-shaped profile); archMap wins when both are absent → native only. */
  architectures?: readonly string[];
  flags?: readonly string[];
  rules: readonly ProfileRule[];
}
