/** kubectl's columns for Ingress and IngressClass (networking.k8s.io/v1), as the API server prints them. */
import type { KindObject } from '../validate.js';
import { since } from './human-duration.js';
import { AGE_COLUMN, column, NAME_COLUMN, type KindColumns } from './kind-columns.js';

type Ingress = KindObject<'Ingress'>;

/** The rules' hosts, "*" for a rule without one; at most 4 then ", + N more...", as kubectl does. */
function hostsText(ing: Ingress): string {
  const hosts = (ing.spec?.rules ?? []).map((r) => r.host || '*');
  if (hosts.length === 0) return '*';
  return hosts.length > 4 ? `${hosts.slice(0, 4).join(',')} + ${hosts.length - 4} more...` : hosts.join(',');
}

function addressText(ing: Ingress): string {
  return (ing.status?.loadBalancer?.ingress ?? []).map((i) => i.ip || i.hostname || '').filter(Boolean).join(',');
}

export const ingressColumns: KindColumns<'Ingress'> = {
  columns: [
    NAME_COLUMN,
    column('Class', 'string', 'The name of the IngressClass serving this Ingress.'),
    column('Hosts', 'string', 'The hosts this Ingress routes.'),
    column('Address', 'string', 'The addresses of the nodes serving this Ingress.'),
    column('Ports', 'string', 'The ports this Ingress is served on.'),
    AGE_COLUMN,
  ],
  row: (ing, now) => [
    ing.metadata.name,
    ing.spec?.ingressClassName || '<none>',
    hostsText(ing),
    addressText(ing),
    ing.spec?.tls?.length ? '80, 443' : '80',
    since(ing.metadata.creationTimestamp, now),
  ],
};

export const ingressClassColumns: KindColumns<'IngressClass'> = {
  columns: [
    NAME_COLUMN,
    column('Controller', 'string', 'The controller that serves Ingresses of this class.'),
    column('Parameters', 'string', 'The parameters of the controller (none in Grove).'),
    AGE_COLUMN,
  ],
  row: (cls, now) => [cls.metadata.name, cls.spec?.controller ?? '', '<none>', since(cls.metadata.creationTimestamp, now)],
};
