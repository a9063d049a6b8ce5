/**
 * What `grove get secret(s) -o json|yaml` prints of a Secret's data (docs/security.md "Never
 * logged, never shown"): each key with its size in bytes, unless --show-values asks for the
 * object as stored (data in base64, as Kubernetes prints it: it applies back). The Kubernetes
 * path serves the data (admin token only, as Kubernetes does); the CLI is what keeps it off
 * terminals, scrollback and pasted bug reports.
 */
import type { AnyObject } from '../../../../core/objects/changes.js';

/** `object` with a Secret's data values replaced by their decoded size in bytes; other kinds as they are. */
export function withSecretSizes(object: AnyObject): AnyObject {
  if (object.kind !== 'Secret') return object;
  const data = (object as { data?: Record<string, string> }).data;
  if (data === undefined) return object;
  const sizes: Record<string, number> = {};
  for (const [key, value] of Object.entries(data)) sizes[key] = Buffer.from(value, 'base64').length;
  return { ...object, data: sizes } as unknown as AnyObject;
}
