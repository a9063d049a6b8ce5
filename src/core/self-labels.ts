/**
 * The one label prefix under which a node may label itself (docs/security.md, "Node labels").
 * Shared by the agent, which reports only these in its status, and the server, which ignores
 * any other label a node reports (src/server/node-labels.ts).
 */
export const NODE_LABEL_PREFIX = 'node.grove.io/';

export function isSelfLabel(key: string): boolean {
  return key.startsWith(NODE_LABEL_PREFIX);
}

/** The labels of `labels` a node may report about itself. */
export function selfLabels(labels: Readonly<Record<string, string>> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(labels ?? {})) if (isSelfLabel(k)) out[k] = v;
  return out;
}
