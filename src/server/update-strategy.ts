/**
 * PURE: an app's update strategy with the Kubernetes defaults and rounding applied, and the
 * rollout settings (history, progress deadline, automatic rollback).
 */
import { PERCENT } from '../core/manifests/schema-parts.js';
import type { AppSpec, IntOrPercent, UpdateStrategy } from '../core/model.js';

export const DEFAULT_REVISION_HISTORY_LIMIT = 10;
export const DEFAULT_PROGRESS_DEADLINE_SECONDS = 600;
export const MAX_REVISION_HISTORY_LIMIT = 100;

const PERCENT_RE = new RegExp(PERCENT);

/** Whether `v` is a valid maxSurge / maxUnavailable: a whole number 0..10000 or "0%".."100%". */
export function isIntOrPercent(v: unknown): v is IntOrPercent {
  if (typeof v === 'number') return Number.isInteger(v) && v >= 0 && v <= 10_000;
  return typeof v === 'string' && PERCENT_RE.test(v);
}

/** A count, or a percentage of `total` rounded up or down (Kubernetes' GetScaledValueFromIntOrPercent). */
export function scaledValue(v: IntOrPercent, total: number, roundUp: boolean): number {
  if (typeof v === 'number') return v;
  const exact = (Number(v.slice(0, -1)) * total) / 100;
  return roundUp ? Math.ceil(exact) : Math.floor(exact);
}

export interface ResolvedStrategy {
  type: 'RollingUpdate' | 'Recreate' | 'OnDelete';
  maxSurge: number;
  maxUnavailable: number;
}

/** The strategy as written, with the kind's defaults where the manifest says nothing. */
export function strategyWithDefaults(spec: AppSpec): { type: UpdateStrategy['type']; maxSurge: IntOrPercent; maxUnavailable: IntOrPercent } {
  const s = spec.strategy;
  const daemon = spec.kind === 'DaemonSet';
  return { type: s?.type ?? 'RollingUpdate', maxSurge: s?.maxSurge ?? (daemon ? 0 : '25%'), maxUnavailable: s?.maxUnavailable ?? (daemon ? 1 : '25%') };
}

/**
 * Deployment: RollingUpdate 25% / 25%, surge rounded up and unavailable down; DaemonSet:
 * maxUnavailable 1, maxSurge 0, both rounded up (as Kubernetes does for each kind). When both
 * come out 0 nothing could ever move, so one pod may be unavailable.
 */
export function resolveStrategy(spec: AppSpec, desired: number): ResolvedStrategy {
  const { type, maxSurge: surge, maxUnavailable: unavailable } = strategyWithDefaults(spec);
  const daemon = spec.kind === 'DaemonSet';
  const maxSurge = scaledValue(surge, desired, true);
  let maxUnavailable = scaledValue(unavailable, desired, daemon);
  if (maxSurge === 0 && maxUnavailable === 0) maxUnavailable = 1;
  return { type, maxSurge, maxUnavailable };
}

export function revisionHistoryLimit(spec: AppSpec): number {
  return spec.revisionHistoryLimit ?? DEFAULT_REVISION_HISTORY_LIMIT;
}

export function progressDeadlineMs(spec: AppSpec): number {
  return (spec.progressDeadlineSeconds ?? DEFAULT_PROGRESS_DEADLINE_SECONDS) * 1000;
}

export function autoRollback(spec: AppSpec): boolean {
  return spec.autoRollback ?? true;
}
