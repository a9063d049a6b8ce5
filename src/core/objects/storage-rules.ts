/**
 * PURE: the rules of PersistentVolumeClaims and PersistentVolumes a schema cannot say, worded as
 * Kubernetes' ValidatePersistentVolumeClaim / ValidatePersistentVolume word them, plus the one
 * Grove adds: a claim of the local-path class cannot ask for ReadOnlyMany or ReadWriteMany.
 */
import { parseBytes } from '../quantity.js';
import { errorMessage } from '../errors.js';
import type { PathSegment } from './explain.js';
import type { RuleProblem } from './pod-rules.js';
import type { AccessMode } from './storage-constants.js';
import { LOCAL_PATH_CLASS } from './storage-constants.js';
import type { PersistentVolume, PersistentVolumeClaim } from './storage.js';

/** Why the local-path provisioner refuses the shared modes: a directory on one node is not shared storage. */
export const LOCAL_PATH_SHARED_MODES: readonly AccessMode[] = ['ReadOnlyMany', 'ReadWriteMany'];
export const LOCAL_PATH_SHARED_REASON =
  'local-path volumes are a directory on one node: ReadOnlyMany and ReadWriteMany need storage shared between nodes, which Grove does not provide (use ReadWriteOnce, or a hostPath PersistentVolume on shared storage)';

function accessModeProblems(modes: readonly AccessMode[] | undefined, at: (p: PathSegment[], reason: string) => void): void {
  if (!modes || modes.length === 0) at(['accessModes'], 'Required value: at least 1 access mode is required');
  else if (modes.includes('ReadWriteOncePod') && modes.length > 1) at(['accessModes'], 'Forbidden: may not use ReadWriteOncePod with other access modes');
}

function sizeProblem(value: string | number | undefined, path: PathSegment[], what: string, at: (p: PathSegment[], reason: string) => void): void {
  if (value === undefined) {
    at(path, `Required value: ${what}`);
    return;
  }
  try {
    if (parseBytes(value, 'storage') <= 0) at(path, 'Invalid value: must be greater than zero');
  } catch (err) {
    at(path, `Invalid value: ${errorMessage(err)}`);
  }
}

export function persistentVolumeClaimProblems(pvc: PersistentVolumeClaim): RuleProblem[] {
  const out: RuleProblem[] = [];
  const at = (path: PathSegment[], reason: string) => out.push({ path: ['spec', ...path], reason });
  accessModeProblems(pvc.spec.accessModes, at);
  sizeProblem(pvc.spec.resources?.requests?.storage, ['resources', 'requests', 'storage'], 'a claim must ask for a size', at);
  if (pvc.spec.storageClassName === LOCAL_PATH_CLASS) {
    for (const mode of pvc.spec.accessModes ?? []) if (LOCAL_PATH_SHARED_MODES.includes(mode)) at(['accessModes'], `Unsupported value: "${mode}": ${LOCAL_PATH_SHARED_REASON}`);
  }
  return out;
}

export function persistentVolumeProblems(pv: PersistentVolume): RuleProblem[] {
  const out: RuleProblem[] = [];
  const at = (path: PathSegment[], reason: string) => out.push({ path: ['spec', ...path], reason });
  accessModeProblems(pv.spec.accessModes, at);
  sizeProblem(pv.spec.capacity?.storage, ['capacity', 'storage'], 'a volume must have a capacity', at);
  return out;
}
