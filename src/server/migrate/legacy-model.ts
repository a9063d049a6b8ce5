/**
 * The records of a Grove 0.1 server store, frozen: what the migration reads (LEGACY_KEYS in
 * src/core/keys.ts names where they live): the 0.1 layout, a copy of 0.1's App model (deleted
 * with issue 13), so 0.1 data dirs and backups stay readable. Frozen: never extended.
 *
 * Every value is read defensively (a store is outside input): `asLegacy*` return undefined
 * for a record that does not have the shape, and the migration reports it.
 */
import { createHash } from 'node:crypto';

export type LegacyAppKind = 'Deployment' | 'DaemonSet' | 'Job' | 'CronJob';
export type LegacyRestartPolicy = 'Always' | 'OnFailure' | 'Never';
export type LegacyIntOrPercent = number | string;

export interface LegacyEnvVar {
  name: string;
  value: string;
  valueFrom?: { configMapKeyRef: LegacyKeyRef } | { secretKeyRef: LegacyKeyRef };
}
interface LegacyKeyRef {
  name: string;
  key: string;
  optional?: boolean;
}
export type LegacyEnvFrom =
  | { configMapRef: { name: string; optional?: boolean }; prefix?: string }
  | { secretRef: { name: string; optional?: boolean }; prefix?: string };

export interface LegacyPort {
  name?: string;
  containerPort: number;
  hostPort?: number;
  hostIP?: string;
  protocol: 'TCP' | 'UDP';
}

export interface LegacyMount {
  name: string;
  mountPath: string;
  readOnly?: boolean;
  subPath?: string;
}

interface LegacyKeyToPath {
  key: string;
  path: string;
  mode?: number;
}

export type LegacyVolume = { name: string } & (
  | { emptyDir: { medium?: 'Memory'; sizeLimitBytes?: number } }
  | { hostPath: { path: string; type?: string } }
  | { persistentVolumeClaim: { claimName: string; readOnly?: boolean } }
  | { configMap: { name: string; items?: LegacyKeyToPath[]; defaultMode?: number; optional?: boolean } }
  | { secret: { secretName: string; items?: LegacyKeyToPath[]; defaultMode?: number; optional?: boolean } }
);

export interface LegacyResources {
  memoryBytes?: number;
  cpus?: number;
  pidsLimit?: number;
  requestMemoryBytes?: number;
  requestCpus?: number;
}

export type LegacyProbe = (
  | { exec: { command: string[] } }
  | { httpGet: { path: string; port: number; host?: string; httpHeaders?: { name: string; value: string }[] } }
  | { tcpSocket: { port: number; host?: string } }
) & { initialDelaySeconds: number; periodSeconds: number; timeoutSeconds: number; failureThreshold: number; successThreshold: number };

export type LegacySeccomp = { type: 'Unconfined' } | { type: 'Localhost'; localhostProfile: string };

export interface LegacyContainer {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  env: LegacyEnvVar[];
  workingDir?: string;
  resources: LegacyResources;
  imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
  probes?: { liveness?: LegacyProbe; readiness?: LegacyProbe; startup?: LegacyProbe };
  privileged?: boolean;
  seccompProfile?: LegacySeccomp;
  ports?: LegacyPort[];
  volumeMounts?: LegacyMount[];
  envFrom?: LegacyEnvFrom[];
}

export interface LegacyPodTemplate {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  nodeSelector: Record<string, string>;
  restartPolicy: LegacyRestartPolicy;
  hostNetwork: boolean;
  terminationGracePeriodSeconds?: number;
  devices?: { hostPath: string; containerPath: string; permissions: string }[];
  supplementalGroups?: string[];
  initContainers?: LegacyContainer[];
  containers: LegacyContainer[];
  volumes?: LegacyVolume[];
  dependsOn?: { app: string; condition: 'started' | 'healthy' | 'completed' }[];
}

export interface LegacyMeta {
  name: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  createdAt?: string;
  updatedAt?: string;
  source?: { format: 'kubernetes' | 'compose'; file?: string; document?: number };
}

export interface LegacyApp {
  kind: 'App';
  meta: LegacyMeta;
  spec: {
    kind: LegacyAppKind;
    replicas?: number;
    template: LegacyPodTemplate;
    strategy?: { type: 'RollingUpdate' | 'Recreate' | 'OnDelete'; maxSurge?: LegacyIntOrPercent; maxUnavailable?: LegacyIntOrPercent };
    revisionHistoryLimit?: number;
    progressDeadlineSeconds?: number;
    autoRollback?: boolean;
    job?: { completions: number; parallelism: number; backoffLimit: number; activeDeadlineSeconds?: number; ttlSecondsAfterFinished?: number };
    cron?: {
      schedule: string;
      timeZone?: string;
      concurrencyPolicy: 'Allow' | 'Forbid' | 'Replace';
      successfulJobsHistoryLimit: number;
      failedJobsHistoryLimit: number;
      suspend: boolean;
    };
  };
  generation?: number;
}

export interface LegacyRevision {
  kind: 'AppRevision';
  app: string;
  revision: number;
  templateHash: string;
  template: LegacyPodTemplate;
  createdAt: string;
  changeCause?: string;
}

export interface LegacyRollout {
  kind: 'Rollout';
  app: string;
  revision: number;
  templateHash: string;
  phase: 'Progressing' | 'Complete' | 'Failed';
  startedAt: string;
  lastProgressAt: string;
  progressKey: string;
  stableHash?: string;
  message?: string;
  lastRollback?: { fromRevision: number; toRevision: number; at: string; reason: string };
}

export interface LegacyPod {
  kind: 'Pod';
  meta: LegacyMeta;
  app: string;
  node?: string;
  templateHash: string;
  unschedulable?: string;
}

export interface LegacyNode {
  kind: 'Node';
  meta: LegacyMeta;
  cordoned: boolean;
  credentialHash: string;
  joinedAt: string;
  /** Written by the status cache on Ready ↔ NotReady transitions only. */
  ready?: boolean;
  lastTransitionAt?: string;
}

export interface LegacyConfigMap {
  kind: 'ConfigMap';
  meta: LegacyMeta;
  data: Record<string, string>;
  immutable?: boolean;
}

export interface LegacySecret {
  kind: 'Secret';
  meta: LegacyMeta;
  /** Decoded values (0.1 kept text, not base64). */
  data: Record<string, string>;
  type?: string;
  immutable?: boolean;
}

/* ------------------------------------------------------------- shape checks */

type Obj = Record<string, unknown>;

export function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

const isText = (v: unknown): v is string => typeof v === 'string';
const isStringMap = (v: unknown): v is Record<string, string> => isObj(v) && Object.values(v).every(isText);

function hasMeta(v: unknown, kind: string): v is { meta: LegacyMeta } & Obj {
  return isObj(v) && v.kind === kind && isObj(v.meta) && isText(v.meta.name) && isStringMap(v.meta.labels ?? {}) && isStringMap(v.meta.annotations ?? {});
}

function isTemplate(v: unknown): v is LegacyPodTemplate {
  return isObj(v) && Array.isArray(v.containers) && v.containers.every((c) => isObj(c) && isText(c.name) && isText(c.image));
}

export function asLegacyApp(v: unknown): LegacyApp | undefined {
  if (!hasMeta(v, 'App') || !isObj(v.spec)) return undefined;
  const kind = v.spec.kind;
  if (kind !== 'Deployment' && kind !== 'DaemonSet' && kind !== 'Job' && kind !== 'CronJob') return undefined;
  if (!isTemplate(v.spec.template)) return undefined;
  if ((kind === 'Job' || kind === 'CronJob') && !isObj(v.spec.job)) return undefined;
  if (kind === 'CronJob' && !(isObj(v.spec.cron) && isText(v.spec.cron.schedule))) return undefined;
  return v as unknown as LegacyApp;
}

export function asLegacyRevision(v: unknown): LegacyRevision | undefined {
  return isObj(v) && v.kind === 'AppRevision' && isText(v.app) && isText(v.templateHash) && Number.isSafeInteger(v.revision) && isTemplate(v.template)
    ? (v as unknown as LegacyRevision)
    : undefined;
}

export function asLegacyRollout(v: unknown): LegacyRollout | undefined {
  return isObj(v) && v.kind === 'Rollout' && isText(v.app) && isText(v.templateHash) && isText(v.phase) ? (v as unknown as LegacyRollout) : undefined;
}

export function asLegacyPod(v: unknown): LegacyPod | undefined {
  return hasMeta(v, 'Pod') && isText(v.app) && isText(v.templateHash) && (v.node === undefined || isText(v.node)) ? (v as unknown as LegacyPod) : undefined;
}

export function asLegacyNode(v: unknown): LegacyNode | undefined {
  return hasMeta(v, 'Node') && isText(v.credentialHash) ? (v as unknown as LegacyNode) : undefined;
}

export function asLegacyConfigMap(v: unknown): LegacyConfigMap | undefined {
  return hasMeta(v, 'ConfigMap') && isStringMap(v.data ?? {}) ? (v as unknown as LegacyConfigMap) : undefined;
}

export function asLegacySecret(v: unknown): LegacySecret | undefined {
  return hasMeta(v, 'Secret') && isStringMap(v.data ?? {}) ? (v as unknown as LegacySecret) : undefined;
}

/* ------------------------------------------------------------ 0.1's hashing */

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (isObj(value)) {
    const out: Obj = {};
    for (const key of Object.keys(value).sort()) if (value[key] !== undefined) out[key] = sortKeys(value[key]);
    return out;
  }
  return value;
}

/**
 * 0.1's template hash (sha256 of the canonical JSON of the pod template, 16 hex digits): only
 * for an app whose current template has no revision record, so its pods' hash can be named.
 */
export function legacyTemplateHash(template: LegacyPodTemplate): string {
  return createHash('sha256').update(JSON.stringify(sortKeys(template))).digest('hex').slice(0, 16);
}
