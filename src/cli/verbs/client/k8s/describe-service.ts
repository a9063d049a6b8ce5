/** `grove describe svc`: kubectl's layout for a Service, its endpoints read from its EndpointSlices. */
import type { KindObject } from '../../../../core/objects/validate.js';
import { formatLabels } from '../../../../core/objects/columns/cells.js';
import { DescribeText, describeTime, type EventRows } from './describe-writer.js';

type Service = KindObject<'Service'>;
type Slice = KindObject<'EndpointSlice'>;

/** "10.42.1.5:8080,10.42.2.7:8080" of the ready endpoints serving `portName`, "<none>" without any. */
function endpointsFor(portName: string, slices: readonly Slice[]): string {
  const out: string[] = [];
  for (const slice of slices) {
    const port = slice.ports?.find((p) => (p.name ?? '') === portName)?.port;
    if (port === undefined) continue;
    for (const e of slice.endpoints) if (e.conditions?.ready !== false) out.push(`${e.addresses[0]}:${port}`);
  }
  return out.length ? out.join(',') : '<none>';
}

export function describeService(svc: Service, slices: readonly Slice[], events?: EventRows): string {
  const spec = svc.spec ?? {};
  const out = new DescribeText();
  out.field(0, 'Name', svc.metadata.name);
  out.field(0, 'Namespace', svc.metadata.namespace ?? 'default');
  out.labels(0, 'Labels', svc.metadata.labels);
  out.annotations(0, 'Annotations', svc.metadata.annotations);
  out.field(0, 'CreationTimestamp', describeTime(svc.metadata.creationTimestamp));
  out.field(0, 'Selector', formatLabels(spec.selector).replace('<none>', ''));
  out.field(0, 'Type', spec.type ?? 'ClusterIP');
  if (spec.ipFamilyPolicy) out.field(0, 'IP Family Policy', spec.ipFamilyPolicy);
  if (spec.ipFamilies?.length) out.field(0, 'IP Families', spec.ipFamilies.join(','));
  if (spec.clusterIP) out.field(0, 'IP', spec.clusterIP);
  if (spec.clusterIPs?.length) out.field(0, 'IPs', spec.clusterIPs.join(','));
  if (spec.externalName) out.field(0, 'External Name', spec.externalName);
  const ingress = (svc.status?.loadBalancer?.ingress ?? []).map((i) => i.ip ?? i.hostname ?? '').join(', ');
  if (ingress) out.field(0, 'LoadBalancer Ingress', ingress);
  for (const p of spec.ports ?? []) {
    const name = p.name || '<unset>';
    out.field(0, 'Port', `${name}  ${p.port}/${p.protocol ?? 'TCP'}`);
    out.field(0, 'TargetPort', `${p.targetPort ?? p.port}/${p.protocol ?? 'TCP'}`);
    if (p.nodePort) out.field(0, 'NodePort', `${name}  ${p.nodePort}/${p.protocol ?? 'TCP'}`);
    out.field(0, 'Endpoints', endpointsFor(p.name ?? '', slices));
  }
  out.field(0, 'Session Affinity', spec.sessionAffinity ?? 'None');
  if (spec.sessionAffinityConfig?.clientIP?.timeoutSeconds) out.field(0, 'Session Affinity Timeout', `${spec.sessionAffinityConfig.clientIP.timeoutSeconds}s`);
  if (spec.externalTrafficPolicy) out.field(0, 'External Traffic Policy', spec.externalTrafficPolicy);
  if (spec.internalTrafficPolicy) out.field(0, 'Internal Traffic Policy', spec.internalTrafficPolicy);
  return out.events(events).toString();
}
