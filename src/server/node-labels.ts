/**
 * PURE: which labels a node carries, and who may set them (docs/security.md, "Node labels").
 *
 * Three sources, weakest first:
 *  1. what the node reports about itself in its status (agent `--label`): only keys under
 *     NODE_LABEL_PREFIX count, anything else is dropped, as Kubernetes' NodeRestriction keeps
 *     kubelets off labels they must not set. A node can therefore never make itself look like
 *     `zone=vault` to the scheduler.
 *  2. the well-known labels the server derives: `kubernetes.io/hostname` (the node's name),
 *     `kubernetes.io/os` and `kubernetes.io/arch` (from the reported facts, in Kubernetes'
 *     spelling), so manifests written for Kubernetes select nodes the same way;
 *  3. the node record's labels, set through the API (`grove node label`) or at the node's
 *     first join: the trust boundary. They win over everything above.
 */
import { isSelfLabel, selfLabels } from '../core/self-labels.js';
import type { NodeFacts } from '../core/wire-types.js';
import { normArch } from './scheduling/node-view.js';

export { NODE_LABEL_PREFIX, isSelfLabel } from '../core/self-labels.js';

export const HOSTNAME_LABEL = 'kubernetes.io/hostname';
export const OS_LABEL = 'kubernetes.io/os';
export const ARCH_LABEL = 'kubernetes.io/arch';
const WELL_KNOWN = new Set([HOSTNAME_LABEL, OS_LABEL, ARCH_LABEL]);

/** Node's process.platform → GOOS, which is what Kubernetes' kubernetes.io/os holds. */
const OS: Record<string, string> = { win32: 'windows', sunos: 'solaris' };

/** Labels only the server sets (derived from the node's name and facts). */
export function isWellKnownLabel(key: string): boolean {
  return WELL_KNOWN.has(key);
}

/** Self-reported labels split into what counts and the keys that are dropped. */
export function selfReportedLabels(reported: Readonly<Record<string, string>> | undefined): { kept: Record<string, string>; dropped: string[] } {
  const kept: Record<string, string> = {};
  const dropped: string[] = [];
  for (const [k, v] of Object.entries(reported ?? {})) {
    if (isSelfLabel(k)) kept[k] = v;
    else dropped.push(k);
  }
  return { kept, dropped: dropped.sort() };
}

/** kubernetes.io/hostname always; os and arch once the node has reported its facts. */
export function wellKnownLabels(node: string, facts: Pick<NodeFacts, 'os' | 'arch'> | undefined): Record<string, string> {
  const out: Record<string, string> = { [HOSTNAME_LABEL]: node };
  if (facts?.os) out[OS_LABEL] = OS[facts.os] ?? facts.os.toLowerCase();
  if (facts?.arch) out[ARCH_LABEL] = normArch(facts.arch);
  return out;
}

/**
 * Labels given in a join request that go into a new node's record: the node's own prefix is
 * left to its status reports (where it can change them later), and the well-known labels are
 * the server's to set.
 */
export function joinLabels(requested: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(requested)) if (!isSelfLabel(k) && !isWellKnownLabel(k)) out[k] = v;
  return out;
}

/** What the scheduler matches selectors against and what `grove get nodes` shows. */
export function effectiveNodeLabels(
  node: string,
  recordLabels: Readonly<Record<string, string>>,
  facts: Pick<NodeFacts, 'os' | 'arch' | 'labels'> | undefined,
): Record<string, string> {
  return { ...selfLabels(facts?.labels), ...wellKnownLabels(node, facts), ...recordLabels };
}

/**
 * Remembers which self-reported keys were last dropped per node, so that a node reporting
 * `zone=vault` in every heartbeat is logged once, not every pass (again only when the set
 * changes).
 */
export class DroppedLabelNotes {
  private readonly last = new Map<string, string>();

  /** The dropped keys when they are news for this node, else undefined. */
  note(node: string, reported: Readonly<Record<string, string>> | undefined): string[] | undefined {
    const { dropped } = selfReportedLabels(reported);
    const key = dropped.join(',');
    if ((this.last.get(node) ?? '') === key) return undefined;
    if (key === '') this.last.delete(node);
    else this.last.set(node, key);
    return dropped.length > 0 ? dropped : undefined;
  }

  forget(node: string): void {
    this.last.delete(node);
  }
}
