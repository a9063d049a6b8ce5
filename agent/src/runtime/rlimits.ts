/**
 * PURE: the OCI rlimits of a container — the node's RLIMIT_NOFILE ceiling by default (as before),
 * and the container's own ulimits (compose `ulimits`, grove.io/ulimits) over it. Raising a hard
 * limit above the agent's own needs CAP_SYS_RESOURCE; without it the runtime would fail with
 * "operation not permitted", so the start is refused first with the limit and the reason.
 */
import { ErrorCode, GroveError } from '../../../src/core/errors.js';
import { ULIMIT_TYPES, type Ulimit } from '../../../src/core/objects/container-options.js';
import { capabilitiesIn } from './host-access.js';
import type { Rlimit } from './host.js';

/** Unlimited in an rlimit (RLIM_INFINITY): a bigint, which ociConfigJson writes as a plain number. */
export const RLIM_INFINITY = 18446744073709551615n;

export interface OciRlimit {
  type: string;
  hard: number | bigint;
  soft: number | bigint;
}

export interface RlimitHost {
  /** The agent's own limits by RLIMIT_ name (/proc/self/limits). */
  rlimits?: Readonly<Record<string, Rlimit>>;
  /** The agent's bounding set: whether it holds CAP_SYS_RESOURCE. */
  capBounding?: string | undefined;
  /** The default RLIMIT_NOFILE given to every container (the node's hard limit, capped). */
  nofile?: number | undefined;
}

const value = (v: number | 'unlimited'): number | bigint => (v === 'unlimited' ? RLIM_INFINITY : v);
const exceeds = (want: number | 'unlimited', have: number | 'unlimited') => have !== 'unlimited' && (want === 'unlimited' || want > have);

export function containerRlimits(name: string, ulimits: readonly Ulimit[] | undefined, host: RlimitHost): OciRlimit[] | undefined {
  const out = new Map<string, OciRlimit>();
  if (host.nofile !== undefined) out.set('RLIMIT_NOFILE', { type: 'RLIMIT_NOFILE', hard: host.nofile, soft: host.nofile });
  const canRaise = capabilitiesIn(host.capBounding).includes('CAP_SYS_RESOURCE');
  for (const u of ulimits ?? []) {
    const type = ULIMIT_TYPES[u.name]!;
    const have = host.rlimits?.[type];
    if (!canRaise && have && exceeds(u.hard, have.hard)) {
      throw new GroveError(
        ErrorCode.ConfigInvalid,
        `container ${name}: ulimit ${u.name} hard ${u.hard} is above this node's limit ${have.hard}, and the agent lacks CAP_SYS_RESOURCE to raise it`,
        { details: { ulimit: u.name } },
      );
    }
    out.set(type, { type, hard: value(u.hard), soft: value(u.soft) });
  }
  return out.size > 0 ? [...out.values()] : undefined;
}
