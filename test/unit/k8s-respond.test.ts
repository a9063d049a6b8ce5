/** How a GET answer is represented: a JSON List written in pieces, a Table when asked for one. */
import { describe, expect, it } from 'vitest';
import type { RequestContext } from '../../src/server/http.js';
import { JsonListResponse, JsonResponse } from '../../src/server/http.js';
import { answerAsRequested } from '../../src/server/k8s-api/respond.js';

const ctx = (accept?: string): RequestContext => ({ req: { headers: accept ? { accept } : {} }, query: new URLSearchParams() }) as unknown as RequestContext;
const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'a', namespace: 'default', creationTimestamp: '2026-01-01T00:00:00Z' }, spec: { containers: [] }, status: {} };

describe('answerAsRequested', () => {
  it('answers a JSON List in pieces (its items apart), an object whole, a Table as a Table', () => {
    const list = { apiVersion: 'v1', kind: 'PodList', metadata: { resourceVersion: '3' }, items: [pod] };
    const answer = answerAsRequested(ctx('application/json'), 'Pod', list, new Date());
    expect(answer).toBeInstanceOf(JsonListResponse);
    expect(answer).toMatchObject({ status: 200, head: { apiVersion: 'v1', kind: 'PodList', metadata: { resourceVersion: '3' } }, items: [pod] });
    expect((answer as JsonListResponse).head).not.toHaveProperty('items');
    expect(answerAsRequested(ctx(), 'Pod', pod, new Date())).toBe(pod);
    expect(answerAsRequested(ctx('application/json;as=Table;v=v1;g=meta.k8s.io'), 'Pod', list, new Date())).toBeInstanceOf(JsonResponse);
  });
});
