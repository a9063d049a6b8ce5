/**
 * How error messages show a value someone sent: never in full. An API body may carry a 1 MiB
 * string, and a message that quotes it whole floods the client, the log and every status that
 * repeats it. Every validation path that quotes a value (server validate*.ts, the manifest
 * checks, the wire codec) goes through these two functions.
 */

/** Characters of a value a message shows at most (the rest is counted, not shown). */
export const MAX_QUOTED_CHARS = 100;

/**
 * `text` cut to `max` characters, with what was left out counted:
 * "aaaa… (1048576 characters)". Short text is returned as it is.
 */
export function clipText(text: string, max = MAX_QUOTED_CHARS): string {
  return text.length <= max ? text : `${head(text, max)}… (${text.length} characters)`;
}

/** The first `max` characters, without cutting a surrogate pair in half (a lone one becomes U+FFFD downstream). */
function head(text: string, max: number): string {
  const last = text.charCodeAt(max - 1);
  return text.slice(0, last >= 0xd800 && last <= 0xdbff ? max - 1 : max);
}

/**
 * A value as messages show it: strings JSON-quoted (control characters escaped) and clipped,
 * numbers, booleans and null as they are, anything else by its String() form, clipped.
 */
export function quoteValue(value: unknown, max = MAX_QUOTED_CHARS): string {
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) return String(value);
  const text = typeof value === 'string' ? value : String(value);
  return text.length <= max ? JSON.stringify(text) : `${JSON.stringify(head(text, max))}… (${text.length} characters)`;
}
