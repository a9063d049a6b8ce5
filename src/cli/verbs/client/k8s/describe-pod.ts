/** `grove describe pod`: kubectl's layout from the Pod object, plus the Grove block. */
import type { KindObject } from '../../../../core/objects/validate.js';
import { describeContainers, describeVolumes } from './describe-containers.js';
import { describeGrove, unschedulableMessage } from './describe-grove.js';
import { describeTime, DescribeText, type EventRows } from './describe-writer.js';
import { formatLabels } from '../../../../core/objects/columns/cells.js';

type Pod = KindObject<'Pod'>;

/** BestEffort without any request or limit; Guaranteed when every container's cpu and memory limits equal its requests; else Burstable. */
export function qosClass(pod: Pod): string {
  const containers = [...pod.spec.containers, ...(pod.spec.initContainers ?? [])];
  const any = containers.some((c) => Object.keys(c.resources?.limits ?? {}).length || Object.keys(c.resources?.requests ?? {}).length);
  if (!any) return 'BestEffort';
  const guaranteed = containers.every((c) =>
    (['cpu', 'memory'] as const).every((r) => {
      const limit = c.resources?.limits?.[r];
      const request = c.resources?.requests?.[r] ?? limit;
      return limit !== undefined && String(limit) === String(request);
    }),
  );
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

function controlledBy(pod: Pod): string | undefined {
  const owner = pod.metadata.ownerReferences?.find((o) => o.controller);
  return owner ? `${owner.kind}/${owner.name}` : undefined;
}

export function describePod(pod: Pod, events?: EventRows): string {
  const out = new DescribeText();
  const s = pod.status ?? {};
  out.field(0, 'Name', pod.metadata.name);
  out.field(0, 'Namespace', pod.metadata.namespace);
  out.field(0, 'Node', pod.spec.nodeName ? `${pod.spec.nodeName}${s.hostIP ? `/${s.hostIP}` : ''}` : undefined);
  if (s.startTime) out.field(0, 'Start Time', describeTime(s.startTime));
  out.labels(0, 'Labels', pod.metadata.labels);
  out.annotations(0, 'Annotations', pod.metadata.annotations);
  if (pod.metadata.deletionTimestamp) out.field(0, 'Status', `Terminating (lasts ${pod.metadata.deletionGracePeriodSeconds ?? pod.spec.terminationGracePeriodSeconds ?? 30}s)`);
  else out.field(0, 'Status', s.phase);
  if (s.reason) out.field(0, 'Reason', s.reason);
  if (s.message) out.field(0, 'Message', s.message);
  out.field(0, 'IP', s.podIP);
  const ips = s.podIPs?.length ? s.podIPs.map((i) => i.ip) : s.podIP ? [s.podIP] : [];
  if (ips.length) {
    out.line(0, 'IPs:');
    for (const ip of ips) out.field(1, 'IP', ip);
  } else {
    out.field(0, 'IPs', undefined);
  }
  const owner = controlledBy(pod);
  if (owner) out.field(0, 'Controlled By', owner);
  if (pod.spec.initContainers?.length) describeContainers(out, 0, 'Init Containers', pod.spec.initContainers, s.initContainerStatuses ?? []);
  describeContainers(out, 0, 'Containers', pod.spec.containers, s.containerStatuses ?? []);
  if (s.conditions?.length) {
    out.line(0, 'Conditions:');
    out.row(1, ['Type', 'Status']);
    for (const c of s.conditions) out.row(1, [c.type, c.status]);
  }
  describeVolumes(out, 0, pod.spec.volumes);
  out.field(0, 'QoS Class', qosClass(pod));
  out.field(0, 'Node-Selectors', formatLabels(pod.spec.nodeSelector));
  if (pod.spec.hostNetwork) out.field(0, 'Host Network', 'true');
  describeGrove(out, { annotations: [pod.metadata.annotations], scheduling: pod.spec.nodeName ? undefined : unschedulableMessage(pod) });
  return out.events(events).toString();
}
