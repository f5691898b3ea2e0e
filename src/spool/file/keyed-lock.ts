/**
 * One piece of work at a time per key: work for a key waits for the work
 * queued before it (whether that succeeded or failed); different keys run
 * side by side. A key is forgotten once its queue is empty.
 */
export class KeyedLock<K> {
  private readonly tails = new Map<K, Promise<void>>();

  run<T>(key: K, work: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const next = previous.then(work, work);
    const settled = next.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(key, settled);
    void settled.then(() => {
      if (this.tails.get(key) === settled) this.tails.delete(key);
    });
    return next;
  }
}
