/**
 * The table `grove volume ls` and `grove ctr volume ls` print: the cluster verb dates volumes as
 * kubectl does (AGE 5m), the node's `ctr` as docker does (CREATED 5 minutes ago).
 */
import { ago, table } from '../format.js';
import { since } from '../../core/objects/columns/human-duration.js';

export interface VolumeRow {
  node?: string;
  name: string;
  createdAt: string;
  usedBy: string[];
  error?: string;
}

export function volumeTable(rows: readonly VolumeRow[], withNode: boolean, now: Date, style: 'kubectl' | 'docker' = 'docker'): string {
  const headers = [...(withNode ? ['NODE'] : []), 'VOLUME', style === 'kubectl' ? 'AGE' : 'CREATED', 'USED BY'];
  return table(
    headers,
    rows.map((r) => [
      ...(withNode ? [r.node ?? ''] : []),
      r.error ? `<unknown: ${r.error}>` : r.name,
      r.error ? '' : style === 'kubectl' ? since(r.createdAt, now) : ago(r.createdAt, now),
      r.usedBy.join(',') || '-',
    ]),
  );
}
