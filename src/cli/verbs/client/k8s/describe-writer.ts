/**
 * The text `kubectl describe` writes: "Key:<tab>value" lines at indent levels, aligned the way
 * Go's tabwriter aligns them (padding 2): a column's width holds for a run of consecutive lines
 * that have a cell in that column, and a line without one (a section title) ends the run.
 */

/** The rows of an Events section (events.ts describeEventRows); undefined: events could not be read. */
export type EventRows = readonly (readonly string[])[] | undefined;

/** One output line: its cells; every cell but the last is padded to its column. */
type Line = readonly string[];

const PADDING = 2;

/** Aligns `lines` as Go's tabwriter does (cells terminated by a tab are padded; the last is not). */
export function tabulate(lines: readonly Line[]): string {
  const widths = lines.map((l) => new Array<number>(Math.max(0, l.length - 1)).fill(0));
  const columns = Math.max(0, ...lines.map((l) => l.length - 1));
  for (let col = 0; col < columns; col++) {
    let start = 0;
    while (start < lines.length) {
      if (lines[start]!.length - 1 <= col) {
        start++;
        continue;
      }
      let end = start;
      while (end < lines.length && lines[end]!.length - 1 > col) end++;
      const width = Math.max(...lines.slice(start, end).map((l) => l[col]!.length)) + PADDING;
      for (let i = start; i < end; i++) widths[i]![col] = width;
      start = end;
    }
  }
  return lines.map((l, i) => l.map((cell, col) => (col < l.length - 1 ? cell.padEnd(widths[i]![col]!) : cell)).join('').trimEnd()).join('\n');
}

/** "Sun, 01 Mar 2026 11:50:00 +0000": kubectl's RFC 1123 times, in UTC. */
export function describeTime(iso: string | null | undefined): string {
  if (!iso) return '<unset>';
  const at = new Date(iso);
  return Number.isNaN(at.getTime()) ? iso : at.toUTCString().replace(/GMT$/, '+0000');
}

/** Builds a describe text line by line; `level` indents by two spaces a level. */
export class DescribeText {
  private readonly lines: Line[] = [];

  /** "Key:  value" (value "<none>" when absent or empty). */
  field(level: number, key: string, value: string | number | boolean | undefined | null): this {
    const text = value === undefined || value === null || value === '' ? '<none>' : String(value);
    this.lines.push([`${indent(level)}${key}:`, text]);
    return this;
  }

  /** "Key:  value" with the value as it is, empty included (kubectl's Image ID, Machine ID). */
  text(level: number, key: string, value: string | undefined): this {
    this.lines.push([`${indent(level)}${key}:`, value ?? '']);
    return this;
  }

  /** A title line ("Containers:") or any text on its own. */
  line(level: number, text: string): this {
    this.lines.push([`${indent(level)}${text}`]);
    return this;
  }

  /** A row of a small table inside a section (conditions, pods): every cell aligned. */
  row(level: number, cells: readonly string[]): this {
    this.lines.push([`${indent(level)}${cells[0] ?? ''}`, ...cells.slice(1)]);
    return this;
  }

  /** Labels as kubectl lists them: one "k=v" a line, sorted, the first beside the key. */
  labels(level: number, key: string, labels: Readonly<Record<string, string>> | undefined): this {
    return this.pairs(level, key, labels, '=');
  }

  /** Annotations: one "k: v" a line, sorted. */
  annotations(level: number, key: string, annotations: Readonly<Record<string, string>> | undefined): this {
    return this.pairs(level, key, annotations, ': ');
  }

  private pairs(level: number, key: string, map: Readonly<Record<string, string>> | undefined, sep: string): this {
    const keys = Object.keys(map ?? {}).sort();
    if (keys.length === 0) return this.field(level, key, undefined);
    keys.forEach((k, i) => this.lines.push([i === 0 ? `${indent(level)}${key}:` : '', `${k}${sep}${map![k]}`]));
    return this;
  }

  /**
   * kubectl's Events section (rows: Type, Reason, Age, From, Message): "Events:  <none>" when
   * there are none, nothing at all when they could not be read.
   */
  events(rows: EventRows): this {
    if (rows === undefined) return this;
    if (rows.length === 0) return this.field(0, 'Events', undefined);
    this.line(0, 'Events:');
    this.row(1, ['Type', 'Reason', 'Age', 'From', 'Message']);
    this.row(1, ['----', '------', '----', '----', '-------']);
    for (const r of rows) this.row(1, r);
    return this;
  }

  toString(): string {
    return tabulate(this.lines);
  }
}

function indent(level: number): string {
  return '  '.repeat(level);
}
