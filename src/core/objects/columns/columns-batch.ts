/** kubectl's columns for batch/v1: Job (STATUS from its conditions) and CronJob. */
import type { Condition } from '../meta.js';
import type { KindObject } from '../validate.js';
import { containerCells, formatSelector } from './cells.js';
import { between, since } from './human-duration.js';
import { AGE_COLUMN, column, NAME_COLUMN, TEMPLATE_WIDE_COLUMNS, type KindColumns } from './kind-columns.js';

type Job = KindObject<'Job'>;

function hasCondition(conditions: readonly Condition[] | undefined, type: string): boolean {
  // The first condition of the type decides, as kubectl reads it.
  return conditions?.find((c) => c.type === type)?.status === 'True';
}

/** Complete, Failed, Terminating, Suspended, FailureTarget, SuccessCriteriaMet, else Running. */
export function jobStatus(job: Job): string {
  const conditions = job.status?.conditions;
  if (hasCondition(conditions, 'Complete')) return 'Complete';
  if (hasCondition(conditions, 'Failed')) return 'Failed';
  if (job.metadata.deletionTimestamp) return 'Terminating';
  for (const type of ['Suspended', 'FailureTarget', 'SuccessCriteriaMet']) if (hasCondition(conditions, type)) return type;
  return 'Running';
}

/** "1/3" succeeded of completions; "0/1 of 4" for a work queue (no completions, parallelism > 1). */
export function jobCompletions(job: Job): string {
  const succeeded = job.status?.succeeded ?? 0;
  if (job.spec.completions !== undefined) return `${succeeded}/${job.spec.completions}`;
  const parallelism = job.spec.parallelism ?? 1;
  return parallelism > 1 ? `${succeeded}/1 of ${parallelism}` : `${succeeded}/1`;
}

/** From start to completion, or to now while it runs; empty before it starts. */
function jobDuration(job: Job, now: Date): string {
  const { startTime, completionTime } = job.status ?? {};
  if (!startTime) return '';
  return between(startTime, completionTime ?? now.toISOString());
}

export const jobColumns: KindColumns<'Job'> = {
  columns: [
    NAME_COLUMN,
    column('Status', 'string', 'Status of the job (Complete, Failed, Running, Suspended…), from its conditions.'),
    column('Completions', 'string', 'The number of pods that succeeded, of the completions the job asks for.'),
    column('Duration', 'string', 'Time required to complete the job.'),
    AGE_COLUMN,
  ],
  wideColumns: TEMPLATE_WIDE_COLUMNS,
  row: (job, now) => [job.metadata.name, jobStatus(job), jobCompletions(job), jobDuration(job, now), since(job.metadata.creationTimestamp, now)],
  wide: (job) => [...containerCells(job.spec.template.spec.containers), formatSelector(job.spec.selector)],
};

export const cronJobColumns: KindColumns<'CronJob'> = {
  columns: [
    NAME_COLUMN,
    column('Schedule', 'string', 'The schedule in Cron format.'),
    column('Timezone', 'string', 'The time zone of the schedule (the node\'s when unset).'),
    column('Suspend', 'string', 'Whether later executions are suspended.'),
    column('Active', 'integer', 'The number of jobs currently running.'),
    column('Last Schedule', 'string', 'When the job was last scheduled.'),
    AGE_COLUMN,
  ],
  wideColumns: TEMPLATE_WIDE_COLUMNS,
  row: (cj, now) => [
    cj.metadata.name,
    cj.spec.schedule,
    cj.spec.timeZone ?? '<none>',
    cj.spec.suspend === undefined ? '<unset>' : cj.spec.suspend ? 'True' : 'False',
    String(cj.status?.active?.length ?? 0),
    cj.status?.lastScheduleTime ? since(cj.status.lastScheduleTime, now) : '<none>',
    since(cj.metadata.creationTimestamp, now),
  ],
  wide: (cj) => [...containerCells(cj.spec.jobTemplate.spec.template.spec.containers), formatSelector(cj.spec.jobTemplate.spec.selector)],
};
