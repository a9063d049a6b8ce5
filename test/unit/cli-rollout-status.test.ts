import { describe, expect, it } from 'vitest';
import { rolloutVerdict } from '../../src/cli/verbs/client/rollout-status.js';
import type { RolloutStatusView } from '../../src/server/rollout-api.js';

const view = (o: Partial<RolloutStatusView> = {}): RolloutStatusView => ({
  app: 'web', kind: 'Deployment', revision: 2, phase: 'Progressing', desired: 3, updated: 1, available: 0, total: 4, ...o,
});

describe('rollout status verdicts', () => {
  it('waits while pending or progressing, naming what it waits for', () => {
    expect(rolloutVerdict(view({ phase: 'Pending', revision: 0 }), undefined)).toEqual({ line: 'Waiting for rollout of "web" to start...', done: false });
    expect(rolloutVerdict(view(), undefined)).toMatchObject({ line: 'Waiting for rollout of "web" (revision 2): 1 of 3 updated pods created...', done: false, watched: 2 });
    expect(rolloutVerdict(view({ updated: 3, available: 2 }), 2).line).toContain('2 of 3 updated pods available');
    expect(rolloutVerdict(view({ updated: 3, available: 3, total: 4 }), 2).line).toContain('1 old pods pending termination');
  });

  it('is done on completion, and fails on a failed or rolled-back rollout', () => {
    const complete = rolloutVerdict(view({ phase: 'Complete', updated: 3, available: 3, total: 3 }), 2);
    expect(complete).toMatchObject({ done: true, line: 'rollout of "web" complete: revision 2, 3 of 3 pods available' });
    expect(complete.failure).toBeUndefined();
    expect(rolloutVerdict(view({ phase: 'Failed', message: 'no progress' }), 2).failure).toBe('rollout of "web" revision 2 failed: no progress');
    const rolledBack = view({ phase: 'Pending', revision: 0, lastRollback: { fromRevision: 2, toRevision: 1, at: 'now', reason: 'deadline' } });
    expect(rolloutVerdict(rolledBack, 2).failure).toBe('rollout of "web" revision 2 failed and was rolled back to revision 1: deadline');
    // An older rollback (of another revision) is history, not this rollout's failure.
    expect(rolloutVerdict({ ...rolledBack, phase: 'Complete', revision: 3 }, undefined).failure).toBeUndefined();
  });
});
