import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FALLBACK_BYTES, FALLBACK_LINES, logTail, MAX_MESSAGE_BYTES, messagePolicyLabels, messagePolicyOf, readMessageFile, terminationMessage } from '../../agent/src/agent/termination-message.js';
import { containerStatus } from '../../agent/src/agent/status.js';
import type { ManagedContainer } from '../../agent/src/agent/node-runtime.js';
import { podTarget } from '../support/pod-target.js';

describe('termination message', () => {
  it('is what the file holds, whatever the exit, under either policy', () => {
    expect(terminationMessage({ file: 'disk full', policy: 'File', exitCode: 1 })).toBe('disk full');
    expect(terminationMessage({ file: 'done', policy: 'FallbackToLogsOnError', exitCode: 0, logLines: ['x'] })).toBe('done');
  });

  it('falls back to the log only for FallbackToLogsOnError, an empty file and a failed exit', () => {
    const logLines = ['starting', 'panic: no config'];
    expect(terminationMessage({ file: '', policy: 'FallbackToLogsOnError', exitCode: 2, logLines })).toBe('starting\npanic: no config');
    expect(terminationMessage({ file: '', policy: 'FallbackToLogsOnError', exitCode: null, logLines })).toBe('starting\npanic: no config');
    expect(terminationMessage({ file: '', policy: 'FallbackToLogsOnError', exitCode: 0, logLines })).toBeUndefined();
    expect(terminationMessage({ file: '', policy: 'File', exitCode: 2, logLines })).toBeUndefined();
    expect(terminationMessage({ file: '', policy: 'FallbackToLogsOnError', exitCode: 2, logLines: [] })).toBeUndefined();
  });

  it('keeps the fallback within the kubelet bounds: 80 lines, 2 KiB', () => {
    const many = Array.from({ length: 200 }, (_, i) => `l${i}`);
    const tail = logTail(many).split('\n');
    expect(tail).toHaveLength(FALLBACK_LINES);
    expect(tail.at(-1)).toBe('l199');
    const long = Array.from({ length: 10 }, (_, i) => `${i}`.repeat(500));
    expect(Buffer.byteLength(logTail(long))).toBeLessThanOrEqual(FALLBACK_BYTES);
    expect(logTail(long).endsWith('9'.repeat(500))).toBe(true);
    expect(Buffer.byteLength(logTail(['x'.repeat(10_000)]))).toBe(FALLBACK_BYTES - 1);
  });

  it('reads at most 4 KiB of the file, and nothing from a missing one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'grove-term-'));
    try {
      writeFileSync(join(dir, 'big'), 'a'.repeat(MAX_MESSAGE_BYTES * 3));
      expect(await readMessageFile(join(dir, 'big'))).toHaveLength(MAX_MESSAGE_BYTES);
      expect(await readMessageFile(join(dir, 'missing'))).toBe('');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('records only the non-default policy on the container', () => {
    expect(messagePolicyLabels({})).toEqual({});
    expect(messagePolicyLabels({ terminationMessagePolicy: 'File' })).toEqual({});
    const labels = messagePolicyLabels({ terminationMessagePolicy: 'FallbackToLogsOnError' });
    expect(messagePolicyOf(labels)).toBe('FallbackToLogsOnError');
    expect(messagePolicyOf({})).toBe('File');
  });

  it('shows in the exited status, and as lastState while a restart backs off', () => {
    const pod = podTarget('web-a', { policy: 'Always' });
    const c: ManagedContainer = {
      id: 'x1',
      name: 'web-a_main',
      labels: { 'grove.managed': 'agent', 'grove.pod': 'web-a', 'grove.app': 'web', 'grove.container': 'main', 'grove.template-hash': 'h1' },
      image: 'busybox',
      state: 'exited',
      exitCode: 3,
      oomKilled: false,
      createdAt: '2025-01-01T00:00:00.000Z',
      finishedAt: '2025-01-01T00:00:09.000Z',
      terminationMessage: 'bad config',
    };
    expect(containerStatus(podTarget('web-a', { policy: 'Never' }), 'main', c, undefined)).toMatchObject({ state: 'exited', reason: 'Error', exitCode: 3, message: 'bad config' });
    const failure = { work: { kind: 'container' as const, pod: 'web-a', container: 'main' }, reason: 'CrashLoopBackOff' as const, message: 'back-off 10s restarting failed container', failures: 1, retryAt: 0 };
    expect(containerStatus(pod, 'main', c, failure)).toMatchObject({
      reason: 'CrashLoopBackOff',
      message: 'back-off 10s restarting failed container',
      lastState: { exitCode: 3, reason: 'Error', message: 'bad config', finishedAt: '2025-01-01T00:00:09.000Z' },
    });
  });
});
