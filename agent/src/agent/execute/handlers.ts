/**
 * THE handler table: one handler per step kind. Its type maps every kind of the Step union to a
 * handler of exactly that kind, so adding a kind without a handler fails to compile
 * (test/unit/agent-executor-table.test.ts shows it).
 */
import { backOffRestart, removeContainer, restartContainer, startContainer, stopContainer } from './container-handlers.js';
import { forgetFailures, holdUpdate, refreshConfig, releaseUpdate, saveJobs, scheduleCron, unscheduleCron, watchLocks } from './bookkeeping-handlers.js';
import type { HandlerTable } from './context.js';
import { createSandbox, recreateSandbox, removeSandbox, writeHosts } from './sandbox-handlers.js';
import { cleanPodDirs, pruneLocks, syncProbes } from './settle-handlers.js';

export const HANDLERS: HandlerTable = {
  'forget-failures': forgetFailures,
  'hold-update': holdUpdate,
  'release-update': releaseUpdate,
  'refresh-config': refreshConfig,
  'save-jobs': saveJobs,
  'schedule-cron': scheduleCron,
  'unschedule-cron': unscheduleCron,
  'watch-locks': watchLocks,
  'remove-sandbox': removeSandbox,
  'recreate-sandbox': recreateSandbox,
  'create-sandbox': createSandbox,
  'remove-container': removeContainer,
  'stop-container': stopContainer,
  'start-container': startContainer,
  'back-off-restart': backOffRestart,
  'restart-container': restartContainer,
  'write-hosts': writeHosts,
  'sync-probes': syncProbes,
  'prune-locks': pruneLocks,
  'clean-pod-dirs': cleanPodDirs,
};
