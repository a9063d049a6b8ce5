/** The GroveError a synchronous call throws (the test fails when it throws nothing). */
import type { GroveError } from '../../src/core/errors.js';

export function thrownBy(fn: () => unknown): GroveError {
  try {
    fn();
  } catch (err) {
    return err as GroveError;
  }
  throw new Error('expected a throw, got none');
}
