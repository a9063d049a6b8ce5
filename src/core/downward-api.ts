/**
 * PURE: the Kubernetes downward API's vocabulary — which `fieldRef.fieldPath`s and
 * `resourceFieldRef.resource`s a pod may ask for, and where (env accepts status.* and spec.*;
 * a downwardAPI volume only metadata, whose whole label/annotation maps it may also write).
 * The schemas (src/core/objects/pod-volumes.ts) check paths with these patterns; the agent
 * resolves them (agent/src/agent/volumes/downward.ts) with parseFieldPath.
 */

/** A label or annotation key as the selector `metadata.labels['k']` may name it (prefix/name). */
const KEY = "[-A-Za-z0-9_./]{1,317}";

const SUBSCRIPT = `metadata\\.(?:labels|annotations)\\['${KEY}'\\]`;

/** fieldPaths env[].valueFrom.fieldRef accepts (Kubernetes' validEnvDownwardAPIFieldPathExpressions). */
export const ENV_FIELD_PATH = `^(?:metadata\\.(?:name|namespace|uid)|${SUBSCRIPT}|spec\\.(?:nodeName|serviceAccountName)|status\\.(?:hostIP|hostIPs|podIP|podIPs))$`;
export const ENV_FIELD_PATH_MESSAGE =
  "must be one of metadata.name, metadata.namespace, metadata.uid, metadata.labels['KEY'], metadata.annotations['KEY'], spec.nodeName, spec.serviceAccountName, status.hostIP, status.hostIPs, status.podIP, status.podIPs";

/** fieldPaths a downwardAPI volume item accepts (Kubernetes' validVolumeDownwardAPIFieldPathExpressions). */
export const VOLUME_FIELD_PATH = `^(?:metadata\\.(?:name|namespace|uid|labels|annotations)|${SUBSCRIPT})$`;
export const VOLUME_FIELD_PATH_MESSAGE =
  "must be one of metadata.name, metadata.namespace, metadata.uid, metadata.labels, metadata.annotations, metadata.labels['KEY'], metadata.annotations['KEY'] (status and spec fields are for env only)";

/** resourceFieldRef.resource values Grove resolves (ephemeral-storage and hugepages are not tracked). */
export const RESOURCE_FIELDS = ['limits.cpu', 'limits.memory', 'requests.cpu', 'requests.memory'] as const;
export type ResourceField = (typeof RESOURCE_FIELDS)[number];

/** What a fieldPath names: a whole field, or one key of the labels or annotations. */
export type FieldPath =
  | { field: 'metadata.name' | 'metadata.namespace' | 'metadata.uid' | 'metadata.labels' | 'metadata.annotations' }
  | { field: 'spec.nodeName' | 'spec.serviceAccountName' | 'status.hostIP' | 'status.hostIPs' | 'status.podIP' | 'status.podIPs' }
  | { field: 'metadata.labels' | 'metadata.annotations'; key: string };

const SUBSCRIPT_RE = new RegExp(`^(metadata\\.(?:labels|annotations))\\['(${KEY})'\\]$`);
const WHOLE = new Set(['metadata.name', 'metadata.namespace', 'metadata.uid', 'metadata.labels', 'metadata.annotations', 'spec.nodeName', 'spec.serviceAccountName', 'status.hostIP', 'status.hostIPs', 'status.podIP', 'status.podIPs']);

/** The parsed path, or undefined when Kubernetes has no such path (the schema has refused it already). */
export function parseFieldPath(path: string): FieldPath | undefined {
  if (WHOLE.has(path)) return { field: path } as FieldPath;
  const m = SUBSCRIPT_RE.exec(path);
  return m ? { field: m[1] as 'metadata.labels' | 'metadata.annotations', key: m[2]! } : undefined;
}

/** Whether a pod's fieldRefs (env or volume) read any of its annotations: the server then sends them to the node. */
export function readsAnnotations(fieldPaths: Iterable<string>): 'all' | Set<string> | undefined {
  const keys = new Set<string>();
  for (const p of fieldPaths) {
    const f = parseFieldPath(p);
    if (!f || f.field !== 'metadata.annotations') continue;
    if (!('key' in f)) return 'all';
    keys.add(f.key);
  }
  return keys.size > 0 ? keys : undefined;
}

/**
 * A whole label or annotation map as a downwardAPI file writes it: one `key="value"` line per
 * entry, sorted by key, values quoted as Go's %q does (Kubernetes' FormatMap).
 */
export function formatMap(map: Readonly<Record<string, string>> | undefined): string {
  return Object.keys(map ?? {})
    .sort()
    .map((k) => `${k}=${goQuote(map![k]!)}`)
    .join('\n');
}

/** Go's strconv.Quote for the characters label and annotation values hold. */
function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\r') out += '\\r';
    else if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}
