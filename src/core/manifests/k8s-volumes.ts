/**
 * Kubernetes pod volumes, containers[].volumeMounts, env[].valueFrom and envFrom → the model.
 * The schema has checked shapes; the rules are the wire's (src/core/wire-volumes.ts), run here
 * with errors pointed at the manifest field, so apply fails on the client with file and line.
 */
import type { EnvFromSource, EnvVarSource, PodTemplate, Volume, VolumeMount } from '../model.js';
import { checkVolumeRefs, decodeEnvFrom, decodeEnvVarSource, decodeVolumeMounts, decodeVolumes } from '../wire-volumes.js';
import { parseK8sMemory } from './k8s-quantity.js';
import { atField, manifestError, type DocContext, type FieldPath, type PathSegment } from './location.js';

export interface K8sVolume {
  name: string;
  emptyDir?: { medium?: '' | 'Memory'; sizeLimit?: string | number };
  hostPath?: { path: string; type?: string };
  persistentVolumeClaim?: { claimName: string; readOnly?: boolean };
  configMap?: Record<string, unknown>;
  secret?: Record<string, unknown>;
}

/** The model's field names where they differ from Kubernetes', mapped back for messages. */
const MANIFEST_NAMES: Record<string, string> = { sizeLimitBytes: 'sizeLimit' };

/** "volumes[0].hostPath.path" → ['volumes', 0, 'hostPath', 'path']. */
export function splitFieldPath(path: string): PathSegment[] {
  const out: PathSegment[] = [];
  for (const m of path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) out.push(m[2] !== undefined ? Number(m[2]) : MANIFEST_NAMES[m[1]!] ?? m[1]!);
  return out;
}

/** A wire-volumes `fail` that raises a manifest error at `base` + the decoder's path. */
export function failAt(ctx: DocContext, base: FieldPath) {
  return (path: string, reason: string): never => {
    throw manifestError(ctx, [...base, ...splitFieldPath(path)], reason);
  };
}

function toModel(ctx: DocContext, at: FieldPath, v: K8sVolume): Record<string, unknown> {
  if (v.emptyDir) {
    const e: Record<string, unknown> = {};
    if (v.emptyDir.medium === 'Memory') e.medium = 'Memory';
    if (v.emptyDir.sizeLimit !== undefined) e.sizeLimitBytes = atField(ctx, [...at, 'emptyDir', 'sizeLimit'], (f) => parseK8sMemory(v.emptyDir!.sizeLimit!, f));
    return { ...v, emptyDir: e };
  }
  if (v.hostPath?.type === '') return { ...v, hostPath: { path: v.hostPath.path } };
  return { ...v };
}

export function podVolumes(ctx: DocContext, specPath: FieldPath, volumes: K8sVolume[] | undefined): Volume[] | undefined {
  if (!volumes?.length) return undefined;
  const model = volumes.map((v, i) => toModel(ctx, [...specPath, 'volumes', i], v));
  return decodeVolumes(model, 'volumes', failAt(ctx, specPath));
}

export function containerMounts(ctx: DocContext, containerPath: FieldPath, mounts: unknown[] | undefined): VolumeMount[] | undefined {
  if (!mounts?.length) return undefined;
  return decodeVolumeMounts(mounts, 'volumeMounts', failAt(ctx, containerPath));
}

export function containerEnvFrom(ctx: DocContext, containerPath: FieldPath, envFrom: unknown[] | undefined): EnvFromSource[] | undefined {
  if (!envFrom?.length) return undefined;
  return decodeEnvFrom(envFrom, 'envFrom', failAt(ctx, containerPath));
}

/** env[i].valueFrom; a variable has a value or a valueFrom, never both (as in Kubernetes). */
export function envValueFrom(ctx: DocContext, envPath: FieldPath, e: { value?: string; valueFrom?: unknown }): EnvVarSource | undefined {
  if (e.valueFrom === undefined) return undefined;
  if (e.value !== undefined && e.value !== '') throw manifestError(ctx, [...envPath, 'valueFrom'], 'cannot be combined with value');
  return decodeEnvVarSource(e.valueFrom, 'valueFrom', failAt(ctx, envPath));
}

/** Every mount names a volume of the pod. */
export function checkPodMounts(ctx: DocContext, specPath: FieldPath, template: PodTemplate): void {
  checkVolumeRefs(template, '', (path, reason) => {
    throw manifestError(ctx, [...specPath, ...splitFieldPath(path)], reason);
  });
}
