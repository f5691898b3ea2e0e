/**
 * The outbound connection pool: open SMTP sessions kept between
 * transactions, keyed by address, port, TLS mode and credentials
 * (transport.ts makes the key), so consecutive messages to one host reuse a
 * session while there is work for it.
 *
 * In: sessions the transport opened (`adopt`), and each session back after
 * its transaction with how it ended (`release`). Out: a parked, still open
 * session for a key (`take`), or none.
 *
 * Reuse limits: a session QUITs after `maxMessages` messages (or the
 * server's LIMITS MAILMAX, when lower) or once it is
 * `maxAgeMs` old (Postfix's smtp_connection_reuse_time_limit); one that
 * ended a transaction early is RSET before it is parked; a broken one is
 * closed. Parked sessions QUIT after `idleTimeoutMs` unused, or at once
 * beyond `maxIdlePerKey` (idle-pool.ts keeps the timers). After `close()`
 * nothing is taken or parked again.
 */
import { IdlePool } from './idle-pool.js';
import type { SmtpSession } from './smtp/session.js';

export interface PoolLimits {
  /** Parked sessions QUIT after this. */
  readonly idleTimeoutMs: number;
  readonly maxIdlePerKey: number;
  /** Sessions QUIT after this many messages … */
  readonly maxMessages: number;
  /** … or once they are this old. */
  readonly maxAgeMs: number;
}

/** A session of the pool, lent for one message at a time. */
export interface PooledSession {
  readonly session: SmtpSession;
  readonly key: string;
  readonly openedAt: number;
  /** Messages it was lent for, this one included. */
  messages: number;
}

/** How the transaction of a lent session ended: cleanly, early (RSET it), or with the connection in doubt. */
export type ReleaseState = 'done' | 'reset' | 'broken';

export class ConnectionPool {
  private readonly idle: IdlePool<PooledSession>;
  private closing = false;

  constructor(private readonly limits: PoolLimits) {
    this.idle = new IdlePool<PooledSession>(
      { idleTimeoutMs: limits.idleTimeoutMs, maxIdlePerKey: limits.maxIdlePerKey },
      (p) => p.session.quit(),
    );
  }

  /**
   * A parked session for `key`, lent for one more message. What is parked is open (a session that closes
   * leaves the pool at once, see `adopt`), and nothing is parked once the pool is closing.
   */
  take(key: string): PooledSession | undefined {
    const p = this.idle.take(key);
    return p ? this.lend(p) : undefined;
  }

  /** A session just opened for `key` joins the pool, lent for its first message. */
  adopt(key: string, session: SmtpSession): PooledSession {
    const fresh: PooledSession = { session, key, openedAt: Date.now(), messages: 0 };
    session.onClose(() => this.idle.forget(fresh));
    return this.lend(fresh);
  }

  /** After a transaction: parks the session for the next message (after RSET when it ended early), or lets it go. */
  release(p: PooledSession, state: ReleaseState): void {
    // a server's LIMITS MAILMAX (RFC 9422) wears a session out sooner than our own limit
    const maxMessages = Math.min(this.limits.maxMessages, p.session.limits.mailMax ?? Infinity);
    const worn = p.messages >= maxMessages || Date.now() - p.openedAt >= this.limits.maxAgeMs;
    if (state === 'broken' || p.session.closed) return p.session.close();
    if (this.closing || worn) return p.session.quit();
    if (state === 'done') return this.park(p);
    p.session.reset().then(
      () => (this.closing || p.session.closed ? p.session.close() : this.park(p)),
      () => p.session.close(),
    );
  }

  /** Sessions parked for reuse right now. */
  get parked(): number {
    return this.idle.size;
  }

  /** QUITs the parked sessions; lent ones close when released. */
  close(): void {
    this.closing = true;
    this.idle.clear();
  }

  private lend(p: PooledSession): PooledSession {
    p.messages += 1;
    return p;
  }

  private park(p: PooledSession): void {
    this.idle.put(p.key, p);
  }
}
