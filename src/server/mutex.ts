/**
 * Serialises the server's read-modify-write sequences on the store (apply, node patch, join,
 * readiness transitions, scheduling). The store commits atomically, but "read, decide, commit"
 * from two requests at once could lose one of them; one instance per ControlPlane.
 */
export class Mutex {
  private tail: Promise<void> = Promise.resolve();

  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn);
    // The chain continues whatever fn did; the caller still sees its own rejection.
    this.tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }
}
