/**
 * JSON Merge Patch (RFC 7386), what `kubectl patch --type=merge` sends: objects merge key by key,
 * `null` removes a key, anything else (arrays included) replaces the target's value.
 */

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `target` with `patch` merged in (RFC 7386 MergePatch); neither argument is changed. */
export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (!isRecord(patch)) return structuredClone(patch);
  const out: Record<string, unknown> = isRecord(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else out[key] = applyMergePatch(out[key], value);
  }
  return out;
}
