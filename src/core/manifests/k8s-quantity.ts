/**
 * Kubernetes memory quantities. Not quantity.ts's parseBytes on purpose: in Kubernetes "64M" is
 * 64,000,000 bytes (decimal) and "32m" is 32 *milli*bytes, while docker (and parseBytes, used
 * for compose) reads both as mebibytes. A manifest must mean what it means in Kubernetes.
 */
import { ErrorCode, GroveError } from '../errors.js';
import { quoteValue } from '../quote.js';

const MULTIPLIERS: Record<string, number> = {
  '': 1,
  k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};

const QUANTITY = /^\+?(\d+(?:\.\d*)?|\.\d+)(?:[eE]([+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E|m|u|n))?$/;

function invalid(field: string, message: string): GroveError {
  return new GroveError(ErrorCode.InvalidArgument, `${field}: ${message}`);
}

/** Bytes, rounded up to a whole byte as Kubernetes does. `field` prefixes the message. */
export function parseK8sMemory(value: string | number, field: string): number {
  const text = String(value).trim();
  const m = QUANTITY.exec(text);
  if (!m) throw invalid(field, `${quoteValue(String(value))} is not a size (use e.g. 64Mi, 1Gi or 500M)`);
  const [, digits, exponent, suffix = ''] = m;
  if (suffix === 'm' || suffix === 'u' || suffix === 'n') {
    // Valid Kubernetes, but a fraction of a byte is always a slip for Mi.
    throw invalid(field, `${quoteValue(text)} is ${text.slice(0, -1)} ${suffix === 'm' ? 'milli' : suffix === 'u' ? 'micro' : 'nano'}bytes in Kubernetes: write ${text.slice(0, -1)}Mi for mebibytes`);
  }
  const multiplier = exponent !== undefined ? 10 ** Number(exponent) : MULTIPLIERS[suffix]!;
  // toPrecision drops float noise (1.1 * 1e9 = 1100000000.0000002) before rounding up.
  const bytes = Math.ceil(Number((Number(digits) * multiplier).toPrecision(15)));
  if (!Number.isSafeInteger(bytes)) throw invalid(field, `${quoteValue(text)} is too large`);
  return bytes;
}
