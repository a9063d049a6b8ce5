/** Plain-text tables and durations in the style of docker and kubectl output. */

/** Every row on one line, whatever a cell holds (a command, an agent's error message…). */
export function table(headers: string[], rawRows: string[][]): string {
  const rows = rawRows.map((r) => r.map(oneLine));
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]! + 3))).join('').trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

/** "3 seconds", "2 minutes", "5 hours", "4 days", "3 weeks", "5 months", "2 years" — as docker prints ages. */
export function humanDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 1) return 'Less than a second';
  if (s < 60) return `${s} second${s === 1 ? '' : 's'}`;
  const m = Math.round(s / 60);
  if (m < 60) return m === 1 ? 'About a minute' : `${m} minutes`;
  const h = Math.round(m / 60);
  if (h < 48) return h === 1 ? 'About an hour' : `${h} hours`;
  const days = h / 24;
  if (days < 14) return `${Math.round(days)} days`;
  if (days < 60) return `${Math.floor(days / 7)} weeks`;
  if (days < 730) return `${Math.floor(days / 30)} months`;
  return `${Math.floor(days / 365)} years`;
}

export function ago(iso: string | undefined, now: Date): string {
  if (!iso) return '';
  return `${humanDuration(now.getTime() - Date.parse(iso))} ago`;
}

export function shortId(id: string): string {
  return id.replace(/^sha256:/, '').slice(0, 12);
}

/**
 * Anything a terminal would not print as one visible character — line breaks, tabs, escape
 * sequences, bidi overrides, zero-width and other format characters — as Go's strconv.Quote
 * writes it (docker prints commands that way): \n, \r, \t, \x1b, \u202e, \U000e0001.
 */
const UNPRINTABLE = /[^\p{L}\p{M}\p{N}\p{P}\p{S} ]/u;

function escapeCodePoint(c: string): string {
  if (c === '\n') return '\\n';
  if (c === '\r') return '\\r';
  if (c === '\t') return '\\t';
  const cp = c.codePointAt(0)!;
  if (cp < 0x100) return `\\x${cp.toString(16).padStart(2, '0')}`;
  if (cp < 0x10000) return `\\u${cp.toString(16).padStart(4, '0')}`;
  return `\\U${cp.toString(16).padStart(8, '0')}`;
}

/** `text` on one line: unprintable characters escaped, nothing else changed. */
export function oneLine(text: string): string {
  return UNPRINTABLE.test(text) ? Array.from(text, (c) => (UNPRINTABLE.test(c) ? escapeCodePoint(c) : c)).join('') : text;
}

/** docker ps's width for COMMAND: 20 characters with the ellipsis, not counting the quotes. */
export const COMMAND_WIDTH = 20;

/**
 * A container's command as `docker ps` shows it: double-quoted, escaped to stay on one line
 * (quotes and backslashes too), and cut to COMMAND_WIDTH with "…" unless `full` (--no-trunc).
 * The cut never splits an escape.
 */
export function quoteCommand(args: string[], full = false): string {
  const pieces = Array.from(args.join(' '), (c) => (c === '"' || c === '\\' ? `\\${c}` : UNPRINTABLE.test(c) ? escapeCodePoint(c) : c));
  let text = pieces.join('');
  if (!full && text.length > COMMAND_WIDTH) {
    text = '';
    for (const p of pieces) {
      if (text.length + p.length > COMMAND_WIDTH - 1) break;
      text += p;
    }
    text += '…';
  }
  return `"${text}"`;
}
