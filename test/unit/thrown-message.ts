/** Shared by unit tests (not a test file itself): the message `fn` throws, or "no error". */
export function thrownMessage(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return (err as Error).message;
  }
  return 'no error';
}
