import { describe, expect, it } from 'vitest';
import { ErrorCode, GroveError } from '../../src/core/errors.js';
import { explainListenError } from '../../src/cli/roles/listen-error.js';

const errno = (code: string): NodeJS.ErrnoException => Object.assign(new Error(`listen ${code}: 0.0.0.0:7080`), { code });

describe('listen errors', () => {
  it('a busy port names the port, the flag and its value, and what to do', () => {
    const err = explainListenError(errno('EADDRINUSE'), '--api-addr', '0.0.0.0:7080') as GroveError;
    expect(err).toBeInstanceOf(GroveError);
    expect(err.code).toBe(ErrorCode.AddressUnavailable);
    expect(err.message).toBe('port 7080 is already in use (--api-addr 0.0.0.0:7080): stop the other process or pick another address');
    expect((err.cause as NodeJS.ErrnoException).code).toBe('EADDRINUSE');
  });

  it('an address of another host, and a privileged port without root', () => {
    expect((explainListenError(errno('EADDRNOTAVAIL'), '--mqtt-addr', '[fd00::9]:1883') as Error).message).toBe(
      'fd00::9 is not an address of this host (--mqtt-addr [fd00::9]:1883): use one of its addresses, or 0.0.0.0 for all',
    );
    const denied = explainListenError(errno('EACCES'), '--api-addr', '0.0.0.0:80') as GroveError;
    expect(denied.code).toBe(ErrorCode.PermissionDenied);
    expect(denied.message).toMatch(/^not allowed to listen on port 80 \(--api-addr 0\.0\.0\.0:80\): ports below 1024 need root/);
  });

  it('passes anything else through untouched', () => {
    const other = errno('EMFILE');
    expect(explainListenError(other, '--api-addr', '0.0.0.0:7080')).toBe(other);
  });
});
