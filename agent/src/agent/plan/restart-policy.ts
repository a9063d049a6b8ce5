/** PURE: what a restartPolicy means for a container that exited (shared by the plan, init order and status). */
import type { RestartPolicy } from '../../../../src/core/resolved-pod.js';

/** Whether an exited container is restarted under `policy`. */
export function shouldRestart(policy: RestartPolicy, exitCode: number | null): boolean {
  if (policy === 'Always') return true;
  // An unknown exit code (shim lost, host rebooted) counts as a failure: we cannot prove success.
  if (policy === 'OnFailure') return exitCode !== 0;
  return false;
}
