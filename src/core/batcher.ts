/**
 * Group commit: items arriving while a flush runs are flushed together by the next one, so a
 * storm of N requests costs a handful of flushes (one store sync, one broker reload) instead of
 * N. The first item is flushed at once: a lone request waits for nothing.
 */
export type Outcome<R> = { ok: true; value: R } | { ok: false; error: unknown };

export function createBatcher<T, R>(flush: (items: T[]) => Promise<Outcome<R>[]>, options: { maxBatch?: number } = {}): (item: T) => Promise<R> {
  const maxBatch = options.maxBatch ?? 1000;
  const queue: { item: T; resolve: (value: R) => void; reject: (err: unknown) => void }[] = [];
  let running = false;
  const drain = async (): Promise<void> => {
    running = true;
    while (queue.length > 0) {
      const batch = queue.splice(0, maxBatch);
      try {
        const outcomes = await flush(batch.map((b) => b.item));
        batch.forEach((b, i) => {
          const o = outcomes[i];
          if (o?.ok) b.resolve(o.value);
          else b.reject(o ? o.error : new Error('batch flush returned no outcome'));
        });
      } catch (err) {
        for (const b of batch) b.reject(err);
      }
    }
    running = false;
  };
  return (item) =>
    new Promise<R>((resolve, reject) => {
      queue.push({ item, resolve, reject });
      if (!running) void drain();
    });
}
