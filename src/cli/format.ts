/** Plain-text tables and durations in the style of docker and kubectl output. */

export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]! + 3))).join('').trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

/** "3 seconds", "2 minutes", "5 hours", "4 days" — as docker ps prints ages. */
export function humanDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 1) return 'Less than a second';
  if (s < 60) return `${s} second${s === 1 ? '' : 's'}`;
  const m = Math.round(s / 60);
  if (m < 60) return m === 1 ? 'About a minute' : `${m} minutes`;
  const h = Math.round(m / 60);
  if (h < 48) return h === 1 ? 'About an hour' : `${h} hours`;
  const d = Math.round(h / 24);
  return `${d} days`;
}

export function ago(iso: string | undefined, now: Date): string {
  if (!iso) return '';
  return `${humanDuration(now.getTime() - Date.parse(iso))} ago`;
}

export function shortId(id: string): string {
  return id.replace(/^sha256:/, '').slice(0, 12);
}

export function quoteCommand(args: string[]): string {
  const text = args.join(' ');
  return text.length > 30 ? `"${text.slice(0, 29)}…"` : `"${text}"`;
}
