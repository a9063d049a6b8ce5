/** "Did you mean …?" for names someone typed: manifest fields, config file keys. */

/** Edit distance, for "did you mean": small inputs only (field names). */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length]!;
}

/** The known name a typo most likely meant: at most 2 edits (or a case slip) away. */
export function closest(name: string, known: Iterable<string>): string | undefined {
  if (name.length > 64) return undefined;
  let best: { field: string; d: number } | undefined;
  for (const field of known) {
    const d = field.toLowerCase() === name.toLowerCase() ? 0 : distance(name, field);
    if (d <= 2 && d < name.length / 2 && (!best || d < best.d)) best = { field, d };
  }
  return best?.field;
}
