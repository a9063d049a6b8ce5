/**
 * Answers a GET on the object paths in the representation the client asked for: the object or
 * List as JSON, or the meta.k8s.io Table of it (`kubectl get`). A client that accepts neither
 * gets 406 with a Status (negotiate.ts).
 */
import { JsonResponse, type RequestContext } from '../http.js';
import { contentTypeOf, negotiate } from './negotiate.js';
import { asTable, includeObjectOf } from './table.js';

export function answerAsRequested(ctx: RequestContext, kind: string, body: Record<string, unknown>, now: Date): unknown {
  const representation = negotiate(ctx.req.headers.accept, ['json', 'table']);
  if (representation.kind !== 'table') return body;
  const table = asTable(kind, body, { includeObject: includeObjectOf(ctx.query.get('includeObject')), version: representation.version, now });
  return new JsonResponse(200, table, contentTypeOf(representation));
}
