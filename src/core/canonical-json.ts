/**
 * PURE: JSON with object keys sorted at every level, so that two equal values always give the
 * same text whatever order their keys were built in (manifest parsers, CBOR round trips,
 * spreads). `undefined` members are dropped, as JSON.stringify does. Config bundle digests are
 * computed over it (src/server/config-distributor.ts): the same text as 0.1 computed, so an
 * upgraded server does not republish unchanged bundles.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined) out[key] = sortKeys(v);
    }
    return out;
  }
  return value;
}
