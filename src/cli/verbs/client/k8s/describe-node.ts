/** `grove describe node`: kubectl's layout from the Node object and the pods bound to it. */
import { formatBytes, parseBytes, parseCpus } from '../../../../core/quantity.js';
import type { KindObject } from '../../../../core/objects/validate.js';
import { nodeRoles } from '../../../../core/objects/columns/columns-core.js';
import { describeTime, DescribeText } from './describe-writer.js';
import { since } from '../../../../core/objects/columns/human-duration.js';

type Node = KindObject<'Node'>;
type Pod = KindObject<'Pod'>;

const TERMINATED = new Set(['Succeeded', 'Failed']);

/** Sums a resource over a pod's containers: cores or bytes; a value that does not parse counts 0. */
function sum(pod: Pod, which: 'limits' | 'requests', resource: 'cpu' | 'memory'): number {
  let total = 0;
  for (const c of pod.spec.containers) {
    const v = c.resources?.[which]?.[resource] ?? (which === 'requests' ? c.resources?.limits?.[resource] : undefined);
    if (v === undefined) continue;
    try {
      total += resource === 'cpu' ? parseCpus(v, resource) : parseBytes(v, resource);
    } catch {
      // Stored objects were validated; a value this client cannot read is shown as none.
    }
  }
  return total;
}

function cpuText(cores: number): string {
  return cores === 0 ? '0' : `${Math.round(cores * 1000)}m`;
}

function memoryText(bytes: number): string {
  return bytes === 0 ? '0' : formatBytes(bytes);
}

function resourceList(out: DescribeText, title: string, list: Readonly<Record<string, string | number>> | undefined): void {
  const keys = Object.keys(list ?? {}).sort();
  if (!keys.length) return;
  out.line(0, `${title}:`);
  for (const k of keys) out.field(1, k, String(list![k]));
}

export function describeNode(node: Node, pods: readonly Pod[], now: Date): string {
  const out = new DescribeText();
  const s = node.status ?? {};
  out.field(0, 'Name', node.metadata.name);
  out.field(0, 'Roles', nodeRoles(node));
  out.labels(0, 'Labels', node.metadata.labels);
  out.annotations(0, 'Annotations', node.metadata.annotations);
  out.field(0, 'CreationTimestamp', describeTime(node.metadata.creationTimestamp));
  out.field(0, 'Taints', undefined);
  out.field(0, 'Unschedulable', node.spec?.unschedulable ? 'true' : 'false');
  if (s.conditions?.length) {
    out.line(0, 'Conditions:');
    out.row(1, ['Type', 'Status', 'LastHeartbeatTime', 'LastTransitionTime', 'Reason', 'Message']);
    out.row(1, ['----', '------', '-----------------', '------------------', '------', '-------']);
    for (const c of s.conditions) out.row(1, [c.type, c.status, describeTime(c.lastHeartbeatTime), describeTime(c.lastTransitionTime), c.reason ?? '', c.message ?? '']);
  }
  if (s.addresses?.length) {
    out.line(0, 'Addresses:');
    for (const a of s.addresses) out.field(1, a.type, a.address);
  }
  resourceList(out, 'Capacity', s.capacity);
  resourceList(out, 'Allocatable', s.allocatable);
  const info = s.nodeInfo;
  if (info) {
    out.line(0, 'System Info:');
    out.text(1, 'Machine ID', info.machineID);
    out.text(1, 'Boot ID', info.bootID);
    out.field(1, 'Kernel Version', info.kernelVersion);
    out.text(1, 'OS Image', info.osImage);
    out.field(1, 'Operating System', info.operatingSystem);
    out.field(1, 'Architecture', info.architecture);
    out.field(1, 'Container Runtime Version', info.containerRuntimeVersion);
    // The Grove agent's version: kubectl calls it the kubelet's.
    out.field(1, 'Kubelet Version', info.kubeletVersion);
  }
  if (node.spec?.podCIDR) out.field(0, 'PodCIDR', node.spec.podCIDR);
  const running = pods.filter((p) => p.spec.nodeName === node.metadata.name && !TERMINATED.has(p.status?.phase ?? ''));
  out.field(0, 'Non-terminated Pods', `(${running.length} in total)`);
  if (running.length) {
    out.row(1, ['Namespace', 'Name', 'CPU Requests', 'CPU Limits', 'Memory Requests', 'Memory Limits', 'Age']);
    out.row(1, ['---------', '----', '------------', '----------', '---------------', '-------------', '---']);
    for (const p of running) {
      out.row(1, [p.metadata.namespace ?? '', p.metadata.name, cpuText(sum(p, 'requests', 'cpu')), cpuText(sum(p, 'limits', 'cpu')), memoryText(sum(p, 'requests', 'memory')), memoryText(sum(p, 'limits', 'memory')), since(p.metadata.creationTimestamp, now)]);
    }
  }
  return out.toString();
}
