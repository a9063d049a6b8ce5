import { mountText, volumeText } from './describe-volumes.js';
import type { Command } from 'commander';
import { ErrorCode, GroveError } from '../../../core/errors.js';
import { formatBytes } from '../../../core/quantity.js';
import type { ContainerPort } from '../../../core/model.js';
import type { RolloutStatusView } from '../../../server/rollout-api.js';
import { autoRollback, progressDeadlineMs, strategyWithDefaults } from '../../../server/update-strategy.js';
import { updatePolicyOrNone, windowText } from '../../../core/update-policy.js';
import { collectionFor, openClient } from '../../client/open-client.js';
import { table } from '../../format.js';
import { writeLine, type CliIO } from '../../io.js';
import { argText, NO_OPTIONS, type Act } from '../../verb.js';
import { initContainersText } from './init-status-text.js';
import { labelsText, nodeStatusText, podStatusText, type AppView, type NodeView, type PodView, type SecretView } from './views.js';
import { describeConfigObject } from './describe-config.js';

function field(io: CliIO, name: string, value: string | number | undefined): void {
  writeLine(io.stdout, `${(name + ':').padEnd(18)}${value ?? '<none>'}`);
}

function describeNode(io: CliIO, n: NodeView, pods: PodView[]): void {
  field(io, 'Name', n.name);
  field(io, 'Status', nodeStatusText(n));
  // Only while NotReady after having been Ready: eviction counts from this (docs/reliability.md).
  if (n.notReadySince) field(io, 'NotReady since', n.notReadySince);
  field(io, 'Labels', labelsText(n.labels));
  field(io, 'Joined', n.joinedAt);
  field(io, 'Last status', n.lastStatusAt);
  field(io, 'Revisions', `target ${n.targetRevision ?? '-'}, observed ${n.observedRevision ?? '-'}`);
  if (n.facts) {
    const f = n.facts;
    field(io, 'System', `${f.os}/${f.arch}, ${f.cpus} CPUs, ${formatBytes(f.memoryBytes)} memory (${formatBytes(f.memoryAvailableBytes)} available), ${formatBytes(f.diskFreeBytes)} disk free`);
    field(io, 'Kernel', f.kernel);
    field(io, 'Runtime', `${f.ociRuntime}, cgroup v${f.cgroupVersion}, grove ${f.agentVersion}`);
  }
  writeLine(io.stdout, 'Pods:');
  writeLine(io.stdout, pods.length ? table(['  NAME', 'APP', 'STATUS', 'RESTARTS'], pods.map((p) => [`  ${p.name}`, p.app, podStatusText(p), String(p.restarts)])) : '  <none>');
}

/** "RollingUpdate (max surge 25%, max unavailable 25%)", with the kind's defaults filled in. */
function strategyText(a: AppView): string {
  const s = strategyWithDefaults(a.spec);
  if (s.type !== 'RollingUpdate') return s.type;
  const rollback = autoRollback(a.spec) ? 'on' : 'off';
  return `RollingUpdate (max surge ${s.maxSurge}, max unavailable ${s.maxUnavailable}; auto-rollback ${rollback}, deadline ${progressDeadlineMs(a.spec) / 1000}s)`;
}

function rolloutText(r: RolloutStatusView): string {
  const head = r.phase === 'Pending' ? 'pending' : `revision ${r.revision} ${r.phase}, ${r.available}/${r.desired} updated pods available`;
  return r.message && r.phase === 'Failed' ? `${head}: ${r.message}` : head;
}

/** Per container: "web ready, sidecar not ready (running)". */
function containersText(p: PodView): string {
  if (p.containers.length === 0) return '-';
  const inits = initContainersText(p);
  return (inits ? `init: ${inits}; ` : '') + p.containers.map((c) => `${c.name} ${c.ready ? 'ready' : `not ready (${c.reason ?? c.state}${c.message ? `: ${c.message}` : ''})`}`).join(', ');
}

function describeApp(io: CliIO, a: AppView, rollout?: RolloutStatusView): void {
  const t = a.spec.template;
  field(io, 'Name', a.meta.name);
  field(io, 'Kind', a.spec.kind);
  field(io, 'Generation', a.generation);
  field(io, 'Source', a.meta.source ? `${a.meta.source.format}${a.meta.source.file ? ` (${a.meta.source.file})` : ''}` : undefined);
  field(io, 'Labels', labelsText(a.meta.labels));
  field(io, 'Replicas', `${a.pods.desired} desired | ${a.pods.current} current | ${a.pods.upToDate} up-to-date | ${a.pods.ready} ready`);
  field(io, 'Strategy', strategyText(a));
  if (rollout) field(io, 'Rollout', rolloutText(rollout));
  if (rollout?.lastRollback) {
    const rb = rollout.lastRollback;
    field(io, 'Last rollback', `${rb.at}: revision ${rb.fromRevision} → ${rb.toRevision} (${rb.reason})`);
  }
  field(io, 'Node selector', labelsText(t.nodeSelector));
  field(io, 'Restart policy', t.restartPolicy);
  if (t.hostNetwork) field(io, 'Host network', 'true');
  if (t.devices?.length) field(io, 'Devices', t.devices.map((d) => `${d.hostPath}${d.containerPath !== d.hostPath ? `:${d.containerPath}` : ''}:${d.permissions}`).join(', '));
  if (t.supplementalGroups?.length) field(io, 'Groups', t.supplementalGroups.join(', '));
  for (const v of t.volumes ?? []) field(io, 'Volume', volumeText(v));
  const update = updatePolicyOrNone(a.meta.annotations, t.annotations);
  if (update?.window) field(io, 'Update window', windowText(update.window));
  if (update?.lockMaxSeconds !== undefined) field(io, 'Update lock max', `${update.lockMaxSeconds}s`);
  if (t.initContainers?.length) describeContainers(io, 'Init Containers:', t.initContainers);
  if (t.dependsOn?.length) field(io, 'Depends on', t.dependsOn.map((d) => `${d.app} (${d.condition})`).join(', '));
  describeContainers(io, 'Containers:', t.containers);
  for (const d of a.deferred ?? []) field(io, 'Deferred', `${d.node}: ${d.message}`);
  describeBatch(io, a);
  const pods = a.podList ?? [];
  if (a.daemonSetNote) field(io, 'Scheduling', a.daemonSetNote);
  for (const [message, count] of failedScheduling(pods)) field(io, 'FailedScheduling', `${message} (${count} pod${count > 1 ? 's' : ''} Pending)`);
  writeLine(io.stdout, 'Pods:');
  const rows = pods.map((p) => [`  ${p.name}`, p.node ?? '<none>', p.podIP ?? '<none>', podStatusText(p), String(p.restarts), containersText(p)]);
  writeLine(io.stdout, pods.length ? table(['  NAME', 'NODE', 'IP', 'STATUS', 'RESTARTS', 'CONTAINERS'], rows) : '  <none>');
}

/** The reasons Pending pods have no node, each with how many pods it holds back (first seen first). */
export function failedScheduling(pods: readonly PodView[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const p of pods) if (p.node === undefined && p.unschedulable) out.set(p.unschedulable, (out.get(p.unschedulable) ?? 0) + 1);
  return out;
}

function describeContainers(io: CliIO, title: string, containers: AppView['spec']['template']['containers']): void {
  writeLine(io.stdout, title);
  for (const c of containers) {
    writeLine(io.stdout, `  ${c.name}:`);
    writeLine(io.stdout, `    Image:    ${c.image}`);
    if (c.command) writeLine(io.stdout, `    Command:  ${c.command.join(' ')}`);
    if (c.args) writeLine(io.stdout, `    Args:     ${c.args.join(' ')}`);
    const limits = [c.resources.memoryBytes ? `memory ${formatBytes(c.resources.memoryBytes)}` : '', c.resources.cpus ? `cpu ${c.resources.cpus}` : ''].filter(Boolean).join(', ');
    writeLine(io.stdout, `    Limits:   ${limits || '<none>'}`);
    if (c.env.length) writeLine(io.stdout, `    Env:      ${c.env.map((e) => e.name).join(', ')}`);
    for (const m of c.volumeMounts ?? []) writeLine(io.stdout, `    Mount:    ${mountText(m)}`);
    if (c.ports?.length) writeLine(io.stdout, `    Ports:    ${c.ports.map(portText).join(', ')}`);
    // An explicit opt-in: shown so nobody misses it.
    if (c.privileged) writeLine(io.stdout, '    Privileged: true (all capabilities and devices)');
    // Anything but the default profile is shown, as privileged is.
    if (c.seccompProfile) writeLine(io.stdout, `    Seccomp:  ${c.seccompProfile.type === 'Localhost' ? `Localhost (${c.seccompProfile.localhostProfile})` : 'Unconfined'}`);
  }
}

/** "8080:80/TCP (http)": published as [hostIP:]hostPort:containerPort, declared as containerPort. */
function portText(p: ContainerPort): string {
  const published = p.hostPort !== undefined ? `${p.hostIP ? `${p.hostIP}:` : ''}${p.hostPort}:` : '';
  return `${published}${p.containerPort}/${p.protocol}${p.name ? ` (${p.name})` : ''}`;
}

/** Job / CronJob settings and the status the node reported. */
function describeBatch(io: CliIO, a: AppView): void {
  const { job: spec, cron } = a.spec;
  if (!spec) return;
  if (cron) {
    field(io, 'Schedule', `${cron.schedule}${cron.timeZone ? ` (${cron.timeZone})` : ''}${cron.suspend ? ', suspended' : ''}`);
    field(io, 'Concurrency', cron.concurrencyPolicy);
    field(io, 'History limits', `${cron.successfulJobsHistoryLimit} successful, ${cron.failedJobsHistoryLimit} failed`);
  }
  const limits = [`completions ${spec.completions}`, `parallelism ${spec.parallelism}`, `backoffLimit ${spec.backoffLimit}`];
  if (spec.activeDeadlineSeconds !== undefined) limits.push(`activeDeadlineSeconds ${spec.activeDeadlineSeconds}`);
  if (spec.ttlSecondsAfterFinished !== undefined) limits.push(`ttlSecondsAfterFinished ${spec.ttlSecondsAfterFinished}`);
  field(io, 'Job', limits.join(', '));
  const s = a.pods.job;
  if (!s) return field(io, 'Job status', undefined);
  field(io, 'Job status', `${s.condition ?? 'Running'}${s.reason ? ` (${s.reason})` : ''}: ${s.active} active, ${s.succeeded} succeeded, ${s.failed} failed`);
  if (s.startTime) field(io, 'Start time', s.startTime);
  if (s.completionTime) field(io, 'Completion time', s.completionTime);
  if (s.lastScheduleTime) field(io, 'Last schedule', s.lastScheduleTime);
  if (s.lastSuccessfulTime) field(io, 'Last successful', s.lastSuccessfulTime);
  if (s.jobs?.length) {
    writeLine(io.stdout, 'Runs:');
    writeLine(io.stdout, table(['  NAME', 'STATUS', 'STARTED', 'COMPLETED'], s.jobs.map((j) => [`  ${j.name}`, j.condition ?? 'Running', j.startTime, j.completionTime ?? ''])));
  }
}

export function registerDescribe(program: Command, act: Act): void {
  act(
    program
      .command('describe')
      .description('show one node, app, secret or configmap in detail (secrets: keys and sizes only)')
      .argument('<kind>', 'node | app | secret | configmap')
      .argument('<name>'),
    NO_OPTIONS,
    async (ctx, [kindArg, nameArg]) => {
      const kind = argText(kindArg, 'kind');
      const collection = collectionFor(kind);
      const client = await openClient(ctx);
      const path = encodeURIComponent(argText(nameArg, 'name'));
      if (collection === 'nodes') {
        const node = await client.get<NodeView>(`/v1/nodes/${path}`);
        describeNode(ctx.io, node, await client.get<PodView[]>(`/v1/pods?node=${path}`));
      } else if (collection === 'apps') {
        const [app, rollout] = await Promise.all([client.get<AppView>(`/v1/apps/${path}`), client.get<RolloutStatusView>(`/v1/apps/${path}/rollout`)]);
        describeApp(ctx.io, app, rollout);
      } else if (collection === 'secrets' || collection === 'configmaps') {
        describeConfigObject(ctx.io, collection === 'secrets' ? 'Secret' : 'ConfigMap', await client.get<SecretView>(`/v1/${collection}/${path}`));
      } else {
        throw new GroveError(ErrorCode.InvalidArgument, `describe: "${kind}" is not node, app, secret or configmap`);
      }
    },
  );
}
