import { describe, expect, it } from 'vitest';
import { restartBackoffOption } from '../../src/cli/roles/node-agent.js';

describe('restart backoff option', () => {
  it('takes --restart-backoff, else GROVE_RESTART_BACKOFF_SECONDS, else the agent default', () => {
    expect(restartBackoffOption('30s', { GROVE_RESTART_BACKOFF_SECONDS: '1' })).toEqual({ restartBackoffSeconds: 30 });
    expect(restartBackoffOption('1m', {})).toEqual({ restartBackoffSeconds: 60 });
    expect(restartBackoffOption(undefined, { GROVE_RESTART_BACKOFF_SECONDS: '0.5' })).toEqual({ restartBackoffSeconds: 0.5 });
    expect(restartBackoffOption(undefined, {})).toEqual({});
    expect(restartBackoffOption(undefined, { GROVE_RESTART_BACKOFF_SECONDS: '' })).toEqual({});
  });

  it('rejects what is not a positive duration', () => {
    expect(() => restartBackoffOption('soon', {})).toThrow('--restart-backoff: "soon" is not a duration');
    expect(() => restartBackoffOption(undefined, { GROVE_RESTART_BACKOFF_SECONDS: '-1' })).toThrow('GROVE_RESTART_BACKOFF_SECONDS: "-1" is not a positive number of seconds');
  });
});
