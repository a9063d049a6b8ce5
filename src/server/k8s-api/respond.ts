/**
 * Answers a GET on the object paths in the representation the client asked for: the object or
 * List as JSON, or the meta.k8s.io Table of it (`kubectl get`). A client that accepts neither
 * gets 406 with a Status (negotiate.ts).
 */
import { JsonResponse, type RequestContext } from '../http.js';
import { contentTypeOf, negotiate } from './negotiate.js';
import { asTable, includeObjectOf } from './table.js';
import type { ApiObject } from './watch-source.js';

export function answerAsRequested(ctx: RequestContext, kind: string, body: Record<string, unknown>, now: Date): unknown {
  const representation = negotiate(ctx.req.headers.accept, ['json', 'table']);
  if (representation.kind !== 'table') return body;
  const table = asTable(kind, body, { includeObject: includeObjectOf(ctx.query.get('includeObject')), version: representation.version, now });
  return new JsonResponse(200, table, contentTypeOf(representation));
}

/**
 * How a watch presents each object: a one-row Table when the client asks for Tables (kubectl get
 * -w), else the object as `served` makes it. Lists are answered whole by answerAsRequested.
 */
export function watchPresenter(ctx: RequestContext, kind: string, served: (o: ApiObject) => ApiObject, now: () => Date): (o: ApiObject) => ApiObject {
  const representation = ctx.query.get('watch') !== null ? negotiate(ctx.req.headers.accept, ['json', 'table']) : undefined;
  if (representation?.kind !== 'table') return served;
  const includeObject = includeObjectOf(ctx.query.get('includeObject'));
  return (o) => asTable(kind, served(o) as unknown as Record<string, unknown>, { includeObject, version: representation.version, now: now() }) as unknown as ApiObject;
}
