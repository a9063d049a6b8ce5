import { describe, expect, it } from 'vitest';
import { humanDuration, since } from '../../src/core/objects/columns/human-duration.js';
import { podSummary } from '../../src/core/objects/columns/pod-status.js';
import { ago, NOW, pod, running } from './cli-k8s-fixtures.js';

const S = 1000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;

describe('kubectl durations', () => {
  it('loses precision as the duration grows, as apimachinery HumanDuration does', () => {
    const cases: [number, string][] = [
      [0, '0s'],
      [-900, '0s'],
      [-2 * S, '<invalid>'],
      [45 * S, '45s'],
      [119 * S, '119s'],
      [2 * M, '2m'],
      [3 * M + 2 * S, '3m2s'],
      [10 * M + 30 * S, '10m'],
      [179 * M, '179m'],
      [3 * H, '3h'],
      [4 * H + 5 * M, '4h5m'],
      [8 * H + 5 * M, '8h'],
      [47 * H, '47h'],
      [2 * D, '2d'],
      [3 * D + 4 * H, '3d4h'],
      [8 * D + 4 * H, '8d'],
      [400 * D, '400d'],
      [730 * D, '2y'],
      [731 * D, '2y1d'],
      [9 * 365 * D, '9y'],
    ];
    expect(cases.map(([ms]) => humanDuration(ms))).toEqual(cases.map(([, text]) => text));
  });

  it('says <unknown> without a timestamp', () => {
    expect(since(undefined, NOW)).toBe('<unknown>');
    expect(since(ago(90), NOW)).toBe('90s');
  });
});

const waiting = (name: string, reason: string, restartCount = 0) => ({ name, ready: false, restartCount, image: 'nginx:1.27', imageID: '', state: { waiting: { reason } } });
const terminated = (name: string, exitCode: number, reason?: string) => ({ name, ready: false, restartCount: 0, image: 'busybox:1.36', imageID: '', state: { terminated: { exitCode, ...(reason ? { reason } : {}) } } });

describe('pod READY, STATUS, RESTARTS as kubectl derives them', () => {
  it('Running and ready', () => {
    expect(podSummary(pod('web-1', { phase: 'Running', containerStatuses: [running('web')] }), NOW)).toEqual({ ready: '1/1', status: 'Running', restarts: '0' });
  });

  it('Pending before any report, ContainerCreating while the node pulls and creates', () => {
    expect(podSummary(pod('web-1', { phase: 'Pending' }), NOW).status).toBe('Pending');
    expect(podSummary(pod('web-1', {}), NOW).status).toBe('');
    expect(podSummary(pod('web-1', { phase: 'Pending', containerStatuses: [waiting('web', 'ContainerCreating')] }), NOW)).toEqual({ ready: '0/1', status: 'ContainerCreating', restarts: '0' });
  });

  it('CrashLoopBackOff with restarts and how long ago the last run ended', () => {
    const status = { phase: 'Running', containerStatuses: [{ ...waiting('web', 'CrashLoopBackOff', 5), lastState: { terminated: { exitCode: 1, reason: 'Error', finishedAt: ago(130) } } }] };
    expect(podSummary(pod('web-1', status), NOW)).toEqual({ ready: '0/1', status: 'CrashLoopBackOff', restarts: '5 (2m10s ago)' });
  });

  it('Completed, Error, and an exit code or signal without a reason', () => {
    expect(podSummary(pod('job-1', { phase: 'Succeeded', containerStatuses: [terminated('web', 0, 'Completed')] }), NOW).status).toBe('Completed');
    expect(podSummary(pod('job-1', { phase: 'Failed', containerStatuses: [terminated('web', 1, 'Error')] }), NOW).status).toBe('Error');
    expect(podSummary(pod('job-1', { phase: 'Failed', containerStatuses: [terminated('web', 3)] }), NOW).status).toBe('ExitCode:3');
    const signalled = { ...terminated('web', 137), state: { terminated: { exitCode: 137, signal: 9 } } };
    expect(podSummary(pod('job-1', { phase: 'Failed', containerStatuses: [signalled] }), NOW).status).toBe('Signal:9');
  });

  it('the first container has the last word; a completed one beside a running one is not Completed', () => {
    const two = { spec: { containers: [{ name: 'web', image: 'nginx:1.27' }, { name: 'once', image: 'busybox:1.36' }] } };
    expect(podSummary(pod('web-1', { phase: 'Running', containerStatuses: [running('web'), terminated('once', 0, 'Completed')] }, two), NOW)).toEqual({ ready: '1/2', status: 'NotReady', restarts: '0' });
    const ready = { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }], containerStatuses: [running('web'), terminated('once', 0, 'Completed')] };
    expect(podSummary(pod('web-1', ready, two), NOW).status).toBe('Running');
    expect(podSummary(pod('web-1', { phase: 'Running', containerStatuses: [waiting('web', 'ImagePullBackOff'), running('once')] }, two), NOW)).toEqual({ ready: '1/2', status: 'ImagePullBackOff', restarts: '0' });
    expect(podSummary(pod('web-1', { phase: 'Running', containerStatuses: [waiting('web', 'CrashLoopBackOff'), terminated('once', 0, 'Completed')] }, two), NOW).status).toBe('CrashLoopBackOff');
  });

  const withInit = { spec: { initContainers: [{ name: 'migrate', image: 'busybox:1.36' }, { name: 'seed', image: 'busybox:1.36' }] } };

  it('Init:N/M while init containers run, Init:<reason> when one fails, PodInitializing after them', () => {
    const initRunning = { phase: 'Pending', initContainerStatuses: [terminated('migrate', 0, 'Completed'), { ...running('seed'), ready: false }], containerStatuses: [waiting('web', 'PodInitializing')] };
    expect(podSummary(pod('web-1', initRunning, withInit), NOW).status).toBe('Init:1/2');
    const initFailed = { phase: 'Pending', initContainerStatuses: [terminated('migrate', 1, 'Error'), waiting('seed', 'PodInitializing')] };
    expect(podSummary(pod('web-1', initFailed, withInit), NOW).status).toBe('Init:Error');
    const initLooping = { phase: 'Pending', initContainerStatuses: [{ ...waiting('migrate', 'CrashLoopBackOff', 3), lastState: { terminated: { exitCode: 1, finishedAt: ago(20) } } }, waiting('seed', 'PodInitializing')] };
    expect(podSummary(pod('web-1', initLooping, withInit), NOW)).toEqual({ ready: '0/1', status: 'Init:CrashLoopBackOff', restarts: '3 (20s ago)' });
    const initExit = { phase: 'Pending', initContainerStatuses: [terminated('migrate', 2)] };
    expect(podSummary(pod('web-1', initExit, withInit), NOW).status).toBe('Init:ExitCode:2');
    const initsDone = { phase: 'Pending', conditions: [{ type: 'Initialized', status: 'True' }], initContainerStatuses: [terminated('migrate', 0, 'Completed'), terminated('seed', 0, 'Completed')], containerStatuses: [waiting('web', 'PodInitializing')] };
    expect(podSummary(pod('web-1', initsDone, withInit), NOW).status).toBe('PodInitializing');
  });

  it('Terminating once deleted, unless already finished', () => {
    const deleting = { metadata: { deletionTimestamp: ago(3) } };
    expect(podSummary(pod('web-1', { phase: 'Running', containerStatuses: [running('web')] }, deleting), NOW).status).toBe('Terminating');
    expect(podSummary(pod('web-1', { phase: 'Succeeded', containerStatuses: [terminated('web', 0, 'Completed')] }, deleting), NOW).status).toBe('Completed');
  });

  it('a pod the scheduler cannot place shows Pending (its reason is in describe)', () => {
    const unschedulable = { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/3 nodes are available' }] };
    expect(podSummary(pod('web-1', unschedulable, { spec: { nodeName: undefined } }), NOW)).toEqual({ ready: '0/1', status: 'Pending', restarts: '0' });
  });
});
