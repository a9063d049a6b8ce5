/**
 * A container's lifecycle.preStop hook, as the kubelet runs it: before SIGTERM on every stop
 * (deleted, replaced, killed by a failing liveness probe), within the pod's
 * terminationGracePeriodSeconds, which the hook's time counts against; at least
 * MIN_GRACE_AFTER_HOOK seconds are left for SIGTERM → SIGKILL afterwards. A hook that fails or
 * runs out of time is logged and the stop goes on. No hook when the grace is 0.
 *
 * The hook is recorded on the container at start (PRE_STOP_LABEL, like its grace), because most
 * stops concern pods that have left the target: the container itself knows its hook, also
 * after an agent restart.
 */
import { containerPortNumber } from '../../../src/core/objects/named-ports.js';
import type { Container, LifecycleHandler } from '../../../src/core/objects/pod-container.js';
import type { NetworkCheck, ProbeOutcome } from './probe-net.js';

export const PRE_STOP_LABEL = 'grove.pre-stop';

/** The kubelet's minimumGracePeriodInSeconds: what a container always gets after its hook. */
export const MIN_GRACE_AFTER_HOOK = 2;

/** A hook's handler in the runner's terms (postStart and preStop alike). */
export type LifecycleHook = { exec: { command: string[] } } | { httpGet: NonNullable<NetworkCheck['httpGet']> } | { sleep: { seconds: number } };
export type PreStopHook = LifecycleHook;

function hookOf(h: LifecycleHandler, container: Container): PreStopHook {
  if (h.exec) return { exec: { command: [...h.exec.command] } };
  if (h.httpGet) {
    const { path, port: given, host, scheme, httpHeaders } = h.httpGet;
    // A named port is the container's (the object rules refused a name it lacks).
    const port = containerPortNumber(container, given) ?? 0;
    return { httpGet: { path: path ?? '/', port, ...(host !== undefined ? { host } : {}), ...(scheme === 'HTTPS' ? { scheme } : {}), ...(httpHeaders ? { httpHeaders } : {}) } };
  }
  return { sleep: { seconds: h.sleep!.seconds } };
}

/** The label recording `container`'s preStop hook ({} without one). */
export function preStopLabels(container: Container): Record<string, string> {
  const h = container.lifecycle?.preStop;
  return h ? { [PRE_STOP_LABEL]: JSON.stringify(hookOf(h, container)) } : {};
}

const isString = (v: unknown): v is string => typeof v === 'string';
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The hook recorded on a container, or undefined (none, or not one the agent wrote: labels can
 * be set by hand with `grove ctr run`, and a malformed one must not break a stop).
 */
export function preStopOf(labels: Record<string, string> | undefined): PreStopHook | undefined {
  const raw = labels?.[PRE_STOP_LABEL];
  if (raw === undefined) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (!isObject(v)) return undefined;
  const { exec, httpGet, sleep } = v;
  if (isObject(exec) && Array.isArray(exec.command) && exec.command.length > 0 && exec.command.every(isString)) return { exec: { command: exec.command } };
  if (isObject(httpGet) && Number.isInteger(httpGet.port) && isString(httpGet.path) && (httpGet.host === undefined || isString(httpGet.host))) {
    const headers = Array.isArray(httpGet.httpHeaders) ? httpGet.httpHeaders.filter((h): h is { name: string; value: string } => isObject(h) && isString(h.name) && isString(h.value)) : undefined;
    return {
      httpGet: {
        path: httpGet.path,
        port: httpGet.port as number,
        ...(isString(httpGet.host) ? { host: httpGet.host } : {}),
        ...(httpGet.scheme === 'HTTPS' ? { scheme: 'HTTPS' as const } : {}),
        ...(headers?.length ? { httpHeaders: headers } : {}),
      },
    };
  }
  if (isObject(sleep) && Number.isInteger(sleep.seconds) && (sleep.seconds as number) >= 0) return { sleep: { seconds: sleep.seconds as number } };
  return undefined;
}

/** What running a hook needs: the container's exec and network check, a clock. */
export interface HookRunner {
  exec(argv: string[], timeoutMs: number): Promise<{ exitCode: number | null; timedOut: boolean; output: string }>;
  httpGet(check: NetworkCheck, timeoutMs: number): Promise<ProbeOutcome>;
  sleep(ms: number): Promise<void>;
  now(): number;
}

async function runHandler(hook: PreStopHook, budgetMs: number, runner: HookRunner): Promise<ProbeOutcome> {
  if ('exec' in hook) {
    const r = await runner.exec(hook.exec.command, budgetMs);
    if (r.timedOut) return { ok: false, message: `exec did not finish within ${budgetMs / 1000} s` };
    const tail = r.output.trim().split('\n').pop() ?? '';
    return r.exitCode === 0 ? { ok: true, message: 'exec exited with 0' } : { ok: false, message: `exec exited with ${r.exitCode ?? 'a signal'}${tail ? `: ${tail}` : ''}` };
  }
  if ('httpGet' in hook) return runner.httpGet({ httpGet: hook.httpGet }, budgetMs);
  await runner.sleep(Math.min(hook.sleep.seconds * 1000, budgetMs));
  return { ok: true, message: `slept ${hook.sleep.seconds} s` };
}

/** The container's postStart hook in the runner's terms, or undefined without one. */
export function postStartOf(container: Container): LifecycleHook | undefined {
  const h = container.lifecycle?.postStart;
  return h ? hookOf(h, container) : undefined;
}

/**
 * Runs a postStart hook within `budgetSeconds`: its outcome (a thrown error, or running out of
 * time, is a failure). The kubelet sets no bound; Grove gives the hook the pod's
 * terminationGracePeriodSeconds, because the agent's round waits for it.
 */
export async function runPostStart(hook: LifecycleHook, budgetSeconds: number, runner: HookRunner): Promise<ProbeOutcome> {
  try {
    return await runHandler(hook, Math.max(1, budgetSeconds) * 1000, runner);
  } catch (err) {
    return { ok: false, message: err instanceof Error ? err.message : String(err) };
  }
}

/**
 * Runs `hook` within `graceSeconds` (> 0); its outcome (a thrown error is a failure) and the
 * seconds left for SIGTERM → SIGKILL: the grace minus the hook's whole seconds, at least
 * MIN_GRACE_AFTER_HOOK.
 */
export async function runPreStop(hook: PreStopHook, graceSeconds: number, runner: HookRunner): Promise<{ outcome: ProbeOutcome; graceLeft: number }> {
  const started = runner.now();
  let outcome: ProbeOutcome;
  try {
    outcome = await runHandler(hook, graceSeconds * 1000, runner);
  } catch (err) {
    outcome = { ok: false, message: err instanceof Error ? err.message : String(err) };
  }
  const spent = Math.floor((runner.now() - started) / 1000);
  return { outcome, graceLeft: Math.max(MIN_GRACE_AFTER_HOOK, graceSeconds - spent) };
}
