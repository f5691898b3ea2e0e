/**
 * The parking lot under the connection pool (connection-pool.ts): idle
 * connections kept per key (host:port, TLS mode, credentials) between
 * transactions, each with its idle timer.
 *
 * In: connections to park (`put`) and ones that died while parked
 * (`forget`). Out: the most recently parked connection of a key (`take`);
 * connections handed to `dispose` (QUIT) when their idle time runs out, when
 * a key already holds `maxIdlePerKey`, or on `clear`. Timers are unref'd: an
 * idle cache never keeps the process alive.
 */
export interface IdlePoolOptions {
  readonly idleTimeoutMs: number;
  /** Idle connections kept per key; extra ones are disposed at once. */
  readonly maxIdlePerKey: number;
}

interface Parked<C> {
  readonly conn: C;
  readonly timer: NodeJS.Timeout;
}

export class IdlePool<C> {
  private readonly idle = new Map<string, Parked<C>[]>();

  constructor(
    private readonly options: IdlePoolOptions,
    private readonly dispose: (conn: C) => void,
  ) {}

  /** The most recently parked connection for `key`, or undefined. */
  take(key: string): C | undefined {
    const list = this.idle.get(key);
    const parked = list?.pop();
    if (list && list.length === 0) this.idle.delete(key);
    if (!parked) return undefined;
    clearTimeout(parked.timer);
    return parked.conn;
  }

  /** Parks `conn` until it is taken again or its idle time runs out. */
  put(key: string, conn: C): void {
    const list = this.idle.get(key) ?? [];
    if (list.length >= this.options.maxIdlePerKey) {
      this.dispose(conn);
      return;
    }
    // cleared whenever `conn` leaves the lot, so when it fires `conn` is still parked
    const timer = setTimeout(() => {
      this.forget(conn);
      this.dispose(conn);
    }, this.options.idleTimeoutMs);
    timer.unref();
    list.push({ conn, timer });
    this.idle.set(key, list);
  }

  /** Drops `conn` (it died while parked); nothing when it is not parked. */
  forget(conn: C): void {
    for (const [key, list] of this.idle) {
      const index = list.findIndex((p) => p.conn === conn);
      if (index >= 0) {
        const [parked] = list.splice(index, 1);
        if (parked) clearTimeout(parked.timer);
        if (list.length === 0) this.idle.delete(key);
        return;
      }
    }
  }

  /** Disposes every parked connection. */
  clear(): void {
    for (const list of this.idle.values()) {
      for (const parked of list) {
        clearTimeout(parked.timer);
        this.dispose(parked.conn);
      }
    }
    this.idle.clear();
  }

  /** Keys with a parked connection: an emptied key is let go, so memory follows what is parked. */
  get keys(): number {
    return this.idle.size;
  }

  /** Connections parked now. */
  get size(): number {
    let n = 0;
    for (const list of this.idle.values()) n += list.length;
    return n;
  }
}
