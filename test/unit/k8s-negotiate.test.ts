/** Content negotiation of the Kubernetes paths: JSON variants by parameters, 406 for the rest. */
import { describe, expect, it } from 'vitest';
import { ErrorCode, GroveError } from '../../src/core/errors.js';
import { contentTypeOf, MAX_ACCEPT_BYTES, negotiate, parseAccept, requireJson } from '../../src/server/k8s-api/negotiate.js';

const KUBECTL_GET = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json';
const KUBECTL_DISCOVERY = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json';

function refusal(fn: () => unknown): GroveError {
  try {
    fn();
  } catch (err) {
    if (err instanceof GroveError) return err;
    throw err;
  }
  throw new Error('expected a refusal');
}

describe('parseAccept', () => {
  it('reads ranges with parameters, most preferred first, written order kept among equals', () => {
    expect(parseAccept('text/plain;q=0.5, application/json;as=Table;g=meta.k8s.io;v=v1, application/json')).toEqual([
      { type: 'application', subtype: 'json', params: { as: 'Table', g: 'meta.k8s.io', v: 'v1' }, q: 1 },
      { type: 'application', subtype: 'json', params: {}, q: 1 },
      { type: 'text', subtype: 'plain', params: {}, q: 0.5 },
    ]);
  });

  it('treats no header as anything, skips what is not a media range and what has q=0', () => {
    expect(parseAccept(undefined)).toEqual([{ type: '*', subtype: '*', params: {}, q: 1 }]);
    expect(parseAccept('garbage, application/json;q=0, */*')).toEqual([{ type: '*', subtype: '*', params: {}, q: 1 }]);
  });

  it('refuses a header larger than the limit', () => {
    expect(refusal(() => parseAccept('a/b,'.repeat(MAX_ACCEPT_BYTES))).code).toBe(ErrorCode.InvalidArgument);
  });
});

describe('negotiate', () => {
  it("answers kubectl get's Table request with a v1 Table, and plain JSON to plain clients", () => {
    expect(negotiate(KUBECTL_GET, ['json', 'table'])).toEqual({ kind: 'table', version: 'v1' });
    expect(negotiate('application/json;as=Table;v=v1beta1;g=meta.k8s.io', ['json', 'table'])).toEqual({ kind: 'table', version: 'v1beta1' });
    expect(negotiate('application/json', ['json', 'table'])).toEqual({ kind: 'json' });
    expect(negotiate(undefined, ['json', 'table'])).toEqual({ kind: 'json' });
    expect(negotiate('*/*', ['json', 'table'])).toEqual({ kind: 'json' });
    // A route that serves no Table falls back to the client's next choice.
    expect(negotiate(KUBECTL_GET, ['json'])).toEqual({ kind: 'json' });
  });

  it('answers aggregated discovery when asked, legacy discovery otherwise', () => {
    expect(negotiate(KUBECTL_DISCOVERY, ['discovery', 'json'])).toEqual({ kind: 'discovery', version: 'v2' });
    expect(negotiate('application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList', ['discovery', 'json'])).toEqual({ kind: 'discovery', version: 'v2beta1' });
    // The "nopeer" profile is a view Grove does not have: the next range (plain JSON) wins.
    expect(negotiate('application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList;profile=nopeer,application/json', ['discovery', 'json'])).toEqual({ kind: 'json' });
  });

  it('answers the OpenAPI v2 document in protobuf only to a client that asks for it', () => {
    expect(negotiate('application/com.github.proto-openapi.spec.v2@v1.0+protobuf', ['openapi-v2-protobuf', 'json'])).toEqual({ kind: 'openapi-v2-protobuf' });
    expect(negotiate('application/json', ['openapi-v2-protobuf', 'json'])).toEqual({ kind: 'json' });
  });

  it('refuses with 406 (NotAcceptable) a client that accepts only protobuf, YAML or a view Grove lacks', () => {
    for (const accept of ['application/vnd.kubernetes.protobuf', 'application/yaml', 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1']) {
      const err = refusal(() => negotiate(accept, ['json', 'table']));
      expect(err.code).toBe(ErrorCode.NotAcceptable);
      expect(err.message).toContain('application/json');
    }
  });

  it('labels each answer as the API server does (no "@" in the protobuf type: Go cannot parse it)', () => {
    expect(contentTypeOf({ kind: 'table', version: 'v1' })).toBe('application/json;as=Table;v=v1;g=meta.k8s.io');
    expect(contentTypeOf({ kind: 'discovery', version: 'v2' })).toBe('application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList');
    expect(contentTypeOf({ kind: 'openapi-v2-protobuf' })).not.toContain('@');
  });
});

describe('requireJson', () => {
  it('passes any JSON variant and wildcards, refuses protobuf-only clients', () => {
    for (const accept of [undefined, 'application/json', KUBECTL_GET, 'application/*', 'application/vnd.kubernetes.protobuf,application/json']) expect(() => requireJson(accept)).not.toThrow();
    expect(refusal(() => requireJson('application/vnd.kubernetes.protobuf')).code).toBe(ErrorCode.NotAcceptable);
  });
});
