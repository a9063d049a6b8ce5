/**
 * compose depends_on and healthcheck → the model's AppDependency list and container probes.
 *
 * healthcheck (docs/manifests.md, "Health checks"): the test becomes an exec probe with
 * interval → periodSeconds, timeout → timeoutSeconds, retries → failureThreshold.
 * - Always a readiness probe: the service is healthy (ready, service_healthy) while it passes.
 * - A liveness probe too when the service restarts (restart: always, unless-stopped,
 *   on-failure), as swarm replaces an unhealthy task; with restart "no" (compose's default) an
 *   unhealthy container is only reported, as docker compose does.
 * - start_period, with a liveness probe: a startup probe that allows
 *   ceil(start_period / interval) + retries failures before the container counts as unhealthy,
 *   so slow starters are not killed; without one, failures before the first success only
 *   mean "not ready yet" (docker's "starting").
 */
import type { AppDependency, ContainerProbes, Probe, RestartPolicy } from '../resolved-pod.js';
import { ComposeTextError, parseGoDurationSeconds } from './compose-text.js';
import { manifestError, quote, type DocContext, type FieldPath } from './location.js';

export interface ComposeHealthcheck {
  test?: string | string[];
  interval?: string;
  timeout?: string;
  retries?: number;
  start_period?: string;
  start_interval?: string;
  disable?: boolean;
}

type LongDependency = { condition: 'service_started' | 'service_healthy' | 'service_completed_successfully'; required?: boolean };
export type ComposeDependsOn = string[] | Record<string, LongDependency>;

const CONDITION: Record<LongDependency['condition'], AppDependency['condition']> = {
  service_started: 'started',
  service_healthy: 'healthy',
  service_completed_successfully: 'completed',
};

/** Docker's defaults. */
const DEFAULT_INTERVAL = 30;
const DEFAULT_TIMEOUT = 30;
const DEFAULT_RETRIES = 3;

function seconds(ctx: DocContext, path: FieldPath, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  try {
    // Probe timings are whole seconds, at least one.
    return Math.max(1, parseGoDurationSeconds(value));
  } catch (err) {
    if (err instanceof ComposeTextError) throw manifestError(ctx, path, err.message, { cause: err });
    throw err;
  }
}

function testCommand(ctx: DocContext, path: FieldPath, test: string | string[]): string[] | undefined {
  if (typeof test === 'string') return test.trim() ? ['/bin/sh', '-c', test] : undefined;
  const [kind, ...rest] = test;
  if (kind === 'NONE') return undefined;
  if (kind === 'CMD') {
    if (rest.length === 0) throw manifestError(ctx, path, '["CMD"] needs the command to run after "CMD"');
    return rest;
  }
  if (kind === 'CMD-SHELL') {
    if (rest.length !== 1) throw manifestError(ctx, path, '["CMD-SHELL", …] takes exactly one shell command');
    return ['/bin/sh', '-c', rest[0]!];
  }
  throw manifestError(ctx, [...path, 0], `${quote(kind)} must be "CMD", "CMD-SHELL" or "NONE"`);
}

/** The probes a healthcheck makes, or undefined (none, disabled, NONE). */
export function healthcheckProbes(ctx: DocContext, base: FieldPath, hc: ComposeHealthcheck | undefined, restart: RestartPolicy): ContainerProbes | undefined {
  if (!hc || hc.disable) return undefined;
  const path = [...base, 'healthcheck'];
  // Grove does not read the image's HEALTHCHECK, so a healthcheck without test has nothing to run.
  if (hc.test === undefined) throw manifestError(ctx, path, 'needs a test (Grove does not use the image\'s HEALTHCHECK)');
  const command = testCommand(ctx, [...path, 'test'], hc.test);
  if (!command) return undefined;
  const periodSeconds = seconds(ctx, [...path, 'interval'], hc.interval, DEFAULT_INTERVAL);
  const timeoutSeconds = seconds(ctx, [...path, 'timeout'], hc.timeout, DEFAULT_TIMEOUT);
  const retries = hc.retries ?? DEFAULT_RETRIES;
  const probe = (failureThreshold: number, period = periodSeconds): Probe => ({
    exec: { command: [...command] },
    initialDelaySeconds: 0,
    periodSeconds: period,
    timeoutSeconds,
    failureThreshold,
    successThreshold: 1,
  });
  const out: ContainerProbes = { readiness: probe(retries) };
  if (restart === 'Never') return out;
  out.liveness = probe(retries);
  const startPeriod = hc.start_period === undefined ? 0 : seconds(ctx, [...path, 'start_period'], hc.start_period, 0);
  if (startPeriod > 0) {
    const startInterval = Math.min(periodSeconds, seconds(ctx, [...path, 'start_interval'], hc.start_interval, periodSeconds));
    out.startup = probe(Math.ceil(startPeriod / startInterval) + retries, startInterval);
  }
  return out;
}

/** Whether a service's healthcheck makes a readiness probe (what service_healthy waits for). */
export function hasHealthcheck(hc: ComposeHealthcheck | undefined): boolean {
  if (!hc || hc.disable || hc.test === undefined) return false;
  const t = hc.test;
  return typeof t === 'string' ? t.trim() !== '' : t[0] !== 'NONE';
}

/**
 * A service's depends_on → AppDependency list. `services` are the file's services (with their
 * healthchecks, for service_healthy). A missing service is an error unless `required: false`.
 */
export function dependsOn(ctx: DocContext, base: FieldPath, value: ComposeDependsOn | undefined, services: ReadonlyMap<string, { healthcheck?: ComposeHealthcheck }>): AppDependency[] | undefined {
  if (!value) return undefined;
  const path = [...base, 'depends_on'];
  const entries: [string, LongDependency][] = Array.isArray(value) ? value.map((name) => [name, { condition: 'service_started' }]) : Object.entries(value);
  const out: AppDependency[] = [];
  entries.forEach(([name, dep], i) => {
    const at = Array.isArray(value) ? [...path, i] : [...path, name];
    const target = services.get(name);
    if (!target) {
      if (dep.required === false) return;
      throw manifestError(ctx, at, `${quote(name)} is not a service of this file`, Array.isArray(value) ? {} : { at: 'key' });
    }
    if (name === String(base[base.length - 1])) throw manifestError(ctx, at, 'a service cannot depend on itself', Array.isArray(value) ? {} : { at: 'key' });
    if (dep.condition === 'service_healthy' && !hasHealthcheck(target.healthcheck)) {
      throw manifestError(ctx, [...at, 'condition'], `service_healthy needs a healthcheck on service ${quote(name)}`);
    }
    out.push({ app: name, condition: CONDITION[dep.condition] });
  });
  return out.length > 0 ? out : undefined;
}
