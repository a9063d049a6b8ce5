/**
 * PURE: an app's update strategy with the Kubernetes defaults and rounding applied, and the
 * rollout settings (history, progress deadline, automatic rollback).
 */
import type { AppSpec, IntOrPercent } from '../core/model.js';

export const DEFAULT_REVISION_HISTORY_LIMIT = 10;
export const DEFAULT_PROGRESS_DEADLINE_SECONDS = 600;
export const MAX_REVISION_HISTORY_LIMIT = 100;

/** "0%" … "100%". */
const PERCENT = /^(100|[1-9]?[0-9])%$/;

/** Whether `v` is a valid maxSurge / maxUnavailable: a whole number 0..10000 or "0%".."100%". */
export function isIntOrPercent(v: unknown): v is IntOrPercent {
  if (typeof v === 'number') return Number.isInteger(v) && v >= 0 && v <= 10_000;
  return typeof v === 'string' && PERCENT.test(v);
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

/**
 * Deployment: RollingUpdate 25% / 25%, surge rounded up and unavailable down; DaemonSet:
 * maxUnavailable 1, maxSurge 0, both rounded up (as Kubernetes does for each kind). When both
 * come out 0 nothing could ever move, so one pod may be unavailable.
 */
export function resolveStrategy(spec: AppSpec, desired: number): ResolvedStrategy {
  const s = spec.strategy;
  const type = s?.type ?? 'RollingUpdate';
  const daemon = spec.kind === 'DaemonSet';
  const surge = s?.maxSurge ?? (daemon ? 0 : '25%');
  const unavailable = s?.maxUnavailable ?? (daemon ? 1 : '25%');
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
