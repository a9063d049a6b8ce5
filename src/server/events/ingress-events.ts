/**
 * PURE: an Ingress' Warning events for TLS Secrets it cannot serve (docs/networking.md "Ingress"),
 * said when the ingress-status controller writes a new TLS error into the status
 * (controllers/ingress-status.ts), not on every pass and not when only the addresses move:
 * one event per Secret, naming it and what is wrong ("TLS Secret shop/web-tls not found:
 * shop.example.com served on HTTP only").
 */
import type { ObjectChange } from '../../core/objects/changes.js';
import type { Ingress, IngressStatus } from '../../core/objects/ingress.js';
import type { ControllerSnapshot } from '../controllers/controller.js';
import { TLS_ERROR_DOMAIN } from '../controllers/ingress-status.js';
import { namespaceOf } from '../controllers/object-kit.js';
import { ingressTlsProblems } from '../network/ingress-tls-secrets.js';
import { EventSource, involvedOf, type EventInput } from './event-types.js';

/** The TLS error a status records (the same on every address), if any. */
function tlsError(status: IngressStatus | undefined): string | undefined {
  for (const entry of status?.loadBalancer?.ingress ?? []) {
    const error = entry.ports?.find((p) => p.error?.startsWith(TLS_ERROR_DOMAIN))?.error;
    if (error) return error;
  }
  return undefined;
}

export function ingressStatusEvents(change: ObjectChange, before: Ingress | undefined, snapshot: ControllerSnapshot): EventInput[] {
  if (change.op !== 'status' || !before) return [];
  const error = tlsError(change.status as IngressStatus);
  if (!error || error === tlsError(before.status)) return [];
  const ing = snapshot.objects.Ingress.find((i) => i.metadata.name === before.metadata.name && namespaceOf(i) === namespaceOf(before)) ?? before;
  return ingressTlsProblems(ing, snapshot.objects.Secret).map((p) => ({ involved: involvedOf(ing), type: 'Warning', reason: p.reason, message: p.message, component: EventSource.ingress }));
}
