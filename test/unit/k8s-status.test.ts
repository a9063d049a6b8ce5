/** Kubernetes Status answers (src/server/k8s-api/status.ts) for the errors every route can meet. */
import { describe, expect, it } from 'vitest';
import { ErrorCode, GroveError } from '../../src/core/errors.js';
import { statusOf } from '../../src/server/k8s-api/status.js';
import { storeError } from '../../src/store/store-error.js';

describe('statusOf', () => {
  it('a full disk is 507 with its message, as on the other routes (an apply on a full card)', () => {
    const full = storeError('commit failed', Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' }));
    expect(statusOf(full)).toEqual({ apiVersion: 'v1', kind: 'Status', metadata: {}, status: 'Failure', message: 'commit failed: no space left on device', reason: 'InternalError', code: 507 });
  });

  it('other store failures are 500, anything not a GroveError says no more than "internal server error"', () => {
    expect(statusOf(new GroveError(ErrorCode.StoreError, 'commit failed: boom'))).toMatchObject({ reason: 'InternalError', code: 500, message: 'commit failed: boom' });
    expect(statusOf(new Error('secret detail'))).toMatchObject({ reason: 'InternalError', code: 500, message: 'internal server error' });
  });
});
