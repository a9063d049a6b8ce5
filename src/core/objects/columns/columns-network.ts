/** kubectl's columns for Service (v1) and EndpointSlice (discovery.k8s.io/v1), as the API server prints them. */
import type { KindObject } from '../validate.js';
import { formatLabels } from './cells.js';
import { since } from './human-duration.js';
import { AGE_COLUMN, column, NAME_COLUMN, wideColumn, type KindColumns } from './kind-columns.js';

type Service = KindObject<'Service'>;

/** The load balancer's addresses; cut to 13 characters + "..." past 16 unless wide, as kubectl does. */
function loadBalancerText(svc: Service, wide: boolean): string {
  const text = (svc.status?.loadBalancer?.ingress ?? []).map((i) => i.ip || i.hostname || '').filter(Boolean).join(',');
  return !wide && text.length > 16 ? `${text.slice(0, 13)}...` : text;
}

function externalIP(svc: Service, wide: boolean): string {
  switch (svc.spec?.type ?? 'ClusterIP') {
    case 'LoadBalancer':
      return loadBalancerText(svc, wide) || '<pending>';
    case 'ExternalName':
      return svc.spec?.externalName ?? '<none>';
    default:
      return '<none>';
  }
}

/** "80/TCP,443:30443/TCP". */
export function servicePortsText(svc: Service): string {
  const text = (svc.spec?.ports ?? []).map((p) => `${p.port}${p.nodePort ? `:${p.nodePort}` : ''}/${p.protocol ?? 'TCP'}`).join(',');
  return text || '<none>';
}

export const serviceColumns: KindColumns<'Service'> = {
  columns: [
    NAME_COLUMN,
    column('Type', 'string', 'The type of the service (ClusterIP, NodePort, LoadBalancer or ExternalName).'),
    column('Cluster-IP', 'string', 'The virtual IP address of the service (None: headless).'),
    column('External-IP', 'string', 'The external address of the service: the nodes\' addresses of a LoadBalancer, the name of an ExternalName.'),
    column('Port(s)', 'string', 'The ports of the service (port:nodePort/protocol).'),
    AGE_COLUMN,
  ],
  wideColumns: [wideColumn('Selector', 'string', 'The label selector of the pods this service routes traffic to.')],
  row: (svc, now) => [svc.metadata.name, svc.spec?.type ?? 'ClusterIP', svc.spec?.clusterIP || '<none>', externalIP(svc, false), servicePortsText(svc), since(svc.metadata.creationTimestamp, now)],
  wide: (svc) => [formatLabels(svc.spec?.selector)],
};

type Slice = KindObject<'EndpointSlice'>;

/** At most 3 addresses, then " + N more...", as kubectl prints them. */
function endpointsText(slice: Slice): string {
  const all = slice.endpoints.flatMap((e) => e.addresses);
  if (all.length === 0) return '<unset>';
  return all.length > 3 ? `${all.slice(0, 3).join(',')} + ${all.length - 3} more...` : all.join(',');
}

export const endpointSliceColumns: KindColumns<'EndpointSlice'> = {
  columns: [
    NAME_COLUMN,
    column('AddressType', 'string', 'The type of address carried by this EndpointSlice.'),
    column('Ports', 'string', 'The ports of the endpoints of this slice.'),
    column('Endpoints', 'string', 'The addresses of the endpoints of this slice (at most 3 shown).'),
    AGE_COLUMN,
  ],
  row: (slice, now) => [
    slice.metadata.name,
    slice.addressType,
    slice.ports?.length ? slice.ports.map((p) => (p.port === undefined ? '<unset>' : String(p.port))).join(',') : '<unset>',
    endpointsText(slice),
    since(slice.metadata.creationTimestamp, now),
  ],
};
