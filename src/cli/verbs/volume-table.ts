/** The table `grove volume ls` and `grove ctr volume ls` print. */
import { ago, table } from '../format.js';

export interface VolumeRow {
  node?: string;
  name: string;
  createdAt: string;
  usedBy: string[];
  error?: string;
}

export function volumeTable(rows: readonly VolumeRow[], withNode: boolean, now: Date): string {
  const headers = [...(withNode ? ['NODE'] : []), 'VOLUME', 'CREATED', 'USED BY'];
  return table(
    headers,
    rows.map((r) => [
      ...(withNode ? [r.node ?? ''] : []),
      r.error ? `<unknown: ${r.error}>` : r.name,
      r.error ? '' : ago(r.createdAt, now),
      r.usedBy.join(',') || '-',
    ]),
  );
}
