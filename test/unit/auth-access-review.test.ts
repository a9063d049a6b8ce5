import { describe, expect, it } from 'vitest';
import { accessReviewRequest, reviewFromProtobuf } from '../../src/server/k8s-api/access-review.js';

/** Bodies kubectl v1.32 sent (kubectl -v=8), byte for byte. */
const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
// kubectl auth can-i get pods --subresource=log -n shop
const CAN_I = hex(`6b 38 73 00 0a 32 0a 17 61 75 74 68 6f 72 69 7a 61 74 69 6f 6e 2e 6b 38 73 2e 69 6f 2f 76 31 12
  17 53 65 6c 66 53 75 62 6a 65 63 74 41 63 63 65 73 73 52 65 76 69 65 77 12 3c 0a 10 0a 00 12 00
  1a 00 22 00 2a 00 32 00 38 00 42 00 12 1e 0a 1c 0a 04 73 68 6f 70 12 03 67 65 74 1a 00 22 00 2a
  04 70 6f 64 73 32 03 6c 6f 67 3a 00 1a 08 08 00 12 00 1a 00 20 00 1a 00 22 00`);
// kubectl auth can-i --list -n shop
const CAN_I_LIST = hex(`6b 38 73 00 0a 31 0a 17 61 75 74 68 6f 72 69 7a 61 74 69 6f 6e 2e 6b 38 73 2e 69 6f 2f 76 31 12
  16 53 65 6c 66 53 75 62 6a 65 63 74 52 75 6c 65 73 52 65 76 69 65 77 12 20 0a 10 0a 00 12 00 1a
  00 22 00 2a 00 32 00 38 00 42 00 12 06 0a 04 73 68 6f 70 1a 04 18 00 22 00 1a 00 22 00`);
// kubectl auth whoami
const WHOAMI = hex(`6b 38 73 00 0a 2d 0a 18 61 75 74 68 65 6e 74 69 63 61 74 69 6f 6e 2e 6b 38 73 2e 69 6f 2f 76 31
  12 11 53 65 6c 66 53 75 62 6a 65 63 74 52 65 76 69 65 77 12 1a 0a 10 0a 00 12 00 1a 00 22 00 2a
  00 32 00 38 00 42 00 12 06 0a 04 0a 00 12 00 1a 00 22 00`);

describe("kubectl's protobuf reviews", () => {
  it('reads a SelfSubjectAccessReview into the JSON it stands for', () => {
    const review = reviewFromProtobuf(CAN_I);
    expect(review).toEqual({
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SelfSubjectAccessReview',
      // Empty fields absent, as Go's JSON of the review omits them; the request below reads them as "".
      spec: { resourceAttributes: { namespace: 'shop', verb: 'get', resource: 'pods', subresource: 'log' } },
    });
    expect(accessReviewRequest(review.spec as Record<string, unknown>)).toEqual({ isResourceRequest: true, namespace: 'shop', verb: 'get', group: '', version: '', resource: 'pods', subresource: 'log', name: '' });
  });

  it('reads a SelfSubjectRulesReview and a SelfSubjectReview', () => {
    expect(reviewFromProtobuf(CAN_I_LIST)).toEqual({ apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectRulesReview', spec: { namespace: 'shop' } });
    expect(reviewFromProtobuf(WHOAMI)).toEqual({ apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' });
  });

  it('refuses what is not Kubernetes protobuf, or runs past its end', () => {
    expect(() => reviewFromProtobuf(Buffer.from('{"kind":"x"}'))).toThrow(/"k8s\\0" prefix/);
    expect(() => reviewFromProtobuf(CAN_I.subarray(0, CAN_I.length - 20))).toThrow(/runs past the end|truncated/);
    const envelope = (bytes: number[]) => Buffer.concat([Buffer.from('k8s\0', 'latin1'), Buffer.from(bytes)]);
    expect(() => reviewFromProtobuf(envelope([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]))).toThrow(/runs past the end/);
    expect(() => reviewFromProtobuf(envelope([0x0b]))).toThrow(/wire type 3/);
  });

  it('asks for resource or non-resource attributes', () => {
    expect(accessReviewRequest({ nonResourceAttributes: { path: '/healthz', verb: 'get' } })).toEqual({ isResourceRequest: false, path: '/healthz', verb: 'get' });
    expect(() => accessReviewRequest({})).toThrow(/resourceAttributes/);
    expect(() => accessReviewRequest({ resourceAttributes: { verb: 7 } })).toThrow(/spec.resourceAttributes.verb/);
  });
});
