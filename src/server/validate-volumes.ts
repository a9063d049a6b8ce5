/**
 * API validation of volumes, volume mounts, env valueFrom and envFrom (the wire decoders of
 * src/core/wire-volumes.ts, so what the API accepts a node accepts), and the server's hostPath
 * policy: with allowed roots configured (`grove server --host-path-root`), a hostPath volume
 * outside them fails the apply, naming the file, the field, the path and the roots.
 */
import type { AppliedResource, ContainerTemplate, EnvVar, PodTemplate } from '../core/model.js';
import { checkVolumeRefs, decodeEnvFrom, decodeEnvVarSource, decodeVolumeMounts, decodeVolumes } from '../core/wire-volumes.js';
import { invalid, type Obj } from './validate-primitives.js';
import { quoteValue } from '../core/quote.js';

const failInvalid = (field: string, reason: string): never => {
  throw invalid(field, reason);
};

/** env[].valueFrom: set on `out` when given (the literal value is then ""). */
export function envValueFrom(o: Obj, out: EnvVar, path: string): void {
  if (o.valueFrom !== undefined) out.valueFrom = decodeEnvVarSource(o.valueFrom, `${path}.valueFrom`, failInvalid);
}

/** A container's volumeMounts and envFrom, each only when given (templates without them hash as before). */
export function containerVolumeFields(o: Obj, out: ContainerTemplate, path: string): void {
  if (o.volumeMounts !== undefined) out.volumeMounts = decodeVolumeMounts(o.volumeMounts, `${path}.volumeMounts`, failInvalid);
  if (o.envFrom !== undefined) out.envFrom = decodeEnvFrom(o.envFrom, `${path}.envFrom`, failInvalid);
}

/** The pod's volumes (only when given), then the rule that every mount names one of them. */
export function templateVolumeFields(o: Obj, out: PodTemplate, path: string): void {
  if (o.volumes !== undefined) out.volumes = decodeVolumes(o.volumes, `${path}.volumes`, failInvalid);
  checkVolumeRefs(out, path, failInvalid);
}

/** Whether `path` is `root` or below it (both normalised absolute paths). */
export function isUnderRoot(path: string, root: string): boolean {
  const r = root.replace(/\/+$/, '');
  return r === '' || path === r || path.startsWith(`${r}/`);
}

/**
 * Refuses hostPath volumes outside `roots`; no roots = any absolute path (docs/security.md).
 * Messages name where the resource came from (its manifest file) as well as the API field.
 */
export function checkHostPathRoots(resources: readonly AppliedResource[], roots: readonly string[] | undefined): void {
  if (!roots?.length) return;
  resources.forEach((r, i) => {
    if (r.kind !== 'App') return;
    (r.spec.template.volumes ?? []).forEach((v, j) => {
      if (!('hostPath' in v) || roots.some((root) => isUnderRoot(v.hostPath.path, root))) return;
      const file = r.meta.source?.file;
      const where = `${file ? `${file}: ` : ''}${r.spec.kind} ${quoteValue(r.meta.name)}`;
      throw invalid(
        `resources[${i}].spec.template.volumes[${j}].hostPath.path`,
        `${where}: volume ${quoteValue(v.name)} host path ${quoteValue(v.hostPath.path)} is outside the allowed roots (${roots.join(', ')})`,
      );
    });
  });
}
