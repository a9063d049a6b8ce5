import { ErrorCode, GroveError } from '../../core/errors.js';

/**
 * What a failed listen means to the person who started Grove: which address, which flag sets it,
 * and what to do — instead of "internal error: listen EADDRINUSE". Errors that are not about
 * the address pass through unchanged.
 */
export function explainListenError(err: unknown, flag: string, address: string): unknown {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  const where = `(${flag} ${address})`;
  const port = address.slice(address.lastIndexOf(':') + 1);
  const host = address.slice(0, address.lastIndexOf(':')).replace(/^\[|\]$/g, '');
  switch (code) {
    case 'EADDRINUSE':
      return new GroveError(ErrorCode.AddressUnavailable, `port ${port} is already in use ${where}: stop the other process or pick another address`, { cause: err });
    case 'EADDRNOTAVAIL':
      return new GroveError(ErrorCode.AddressUnavailable, `${host} is not an address of this host ${where}: use one of its addresses, or 0.0.0.0 for all`, { cause: err });
    case 'EACCES':
      return new GroveError(ErrorCode.PermissionDenied, `not allowed to listen on port ${port} ${where}: ports below 1024 need root (or CAP_NET_BIND_SERVICE); pick a port from 1024 up`, { cause: err });
    default:
      return err;
  }
}
