import { describe, expect, it } from 'vitest';
import { planStatefulSet, type StatefulPodState, type StatefulSetPlanInput } from '../../src/server/controllers/statefulset-plan.js';

const pod = (ordinal: number, o: Partial<StatefulPodState> = {}): StatefulPodState => ({ ordinal, revision: 'r1', ready: true, terminating: false, failed: false, ...o });
const input = (o: Partial<StatefulSetPlanInput>): StatefulSetPlanInput => ({
  replicas: 3,
  podManagementPolicy: 'OrderedReady',
  updateStrategy: { type: 'RollingUpdate', partition: 0 },
  currentRevision: 'r1',
  updateRevision: 'r1',
  pods: [],
  ...o,
});

describe('StatefulSet planner', () => {
  it('OrderedReady creates one ordinal at a time, each after the ones below are ready', () => {
    expect(planStatefulSet(input({}))).toEqual({ create: [{ ordinal: 0, revision: 'r1' }], delete: [] });
    expect(planStatefulSet(input({ pods: [pod(0, { ready: false })] }))).toEqual({ create: [], delete: [] });
    expect(planStatefulSet(input({ pods: [pod(0)] }))).toEqual({ create: [{ ordinal: 1, revision: 'r1' }], delete: [] });
    expect(planStatefulSet(input({ pods: [pod(0), pod(1), pod(2)] }))).toEqual({ create: [], delete: [] });
  });

  it('Parallel creates and deletes all at once', () => {
    expect(planStatefulSet(input({ podManagementPolicy: 'Parallel', pods: [pod(1, { ready: false })] })).create.map((c) => c.ordinal)).toEqual([0, 2]);
    expect(planStatefulSet(input({ podManagementPolicy: 'Parallel', replicas: 1, pods: [pod(0), pod(1, { ready: false }), pod(2)] })).delete).toEqual([2, 1]);
  });

  it('scales down from the highest ordinal, one at a time, while the rest is ready', () => {
    expect(planStatefulSet(input({ replicas: 1, pods: [pod(0), pod(1), pod(2)] })).delete).toEqual([2]);
    expect(planStatefulSet(input({ replicas: 1, pods: [pod(0), pod(1), pod(2, { terminating: true })] })).delete).toEqual([]);
    expect(planStatefulSet(input({ replicas: 1, pods: [pod(0, { ready: false }), pod(1)] })).delete).toEqual([]);
  });

  it('rolls updates in reverse ordinal order down to the partition; below it new pods keep the current revision', () => {
    const rolling = (partition: number, pods: StatefulPodState[]) => planStatefulSet(input({ updateRevision: 'r2', updateStrategy: { type: 'RollingUpdate', partition }, pods }));
    expect(rolling(0, [pod(0), pod(1), pod(2)]).delete).toEqual([2]);
    expect(rolling(0, [pod(0), pod(1), pod(2, { revision: 'r2' })]).delete).toEqual([1]);
    expect(rolling(0, [pod(0), pod(1, { revision: 'r2', ready: false }), pod(2, { revision: 'r2' })]).delete).toEqual([]);
    expect(rolling(2, [pod(0), pod(1), pod(2, { revision: 'r2' })]).delete).toEqual([]);
    expect(rolling(2, [pod(0), pod(2, { revision: 'r2' })]).create).toEqual([{ ordinal: 1, revision: 'r1' }]);
    expect(rolling(0, [pod(0), pod(2, { revision: 'r2' })]).create).toEqual([{ ordinal: 1, revision: 'r2' }]);
  });

  it('OnDelete changes no pod itself; a deleted one comes back at the update revision', () => {
    const onDelete = (pods: StatefulPodState[]) => planStatefulSet(input({ updateRevision: 'r2', updateStrategy: { type: 'OnDelete' }, pods }));
    expect(onDelete([pod(0), pod(1), pod(2)])).toEqual({ create: [], delete: [] });
    expect(onDelete([pod(0), pod(2)])).toEqual({ create: [{ ordinal: 1, revision: 'r2' }], delete: [] });
  });

  it('replaces a failed pod (deleted first, made again in the next pass)', () => {
    expect(planStatefulSet(input({ pods: [pod(0), pod(1, { failed: true, ready: false }), pod(2)] }))).toEqual({ create: [], delete: [1] });
  });
});
