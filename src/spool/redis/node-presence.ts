/**
 * This daemon as one node of the Redis spool: its name, the liveness
 * heartbeat that keeps its claims its own, the wake-ups it sends and
 * receives, and what it logs when the connection comes and goes.
 *
 * In: the command and subscriber connections (their `close`/`ready`
 * events, messages on the wake-up channel). Out: `wake$`, which fires when
 * another node stored or requeued something, when Redis is back after an
 * outage (messages may have fallen due meanwhile), or when this node asks
 * (`wake`, which also publishes to the other nodes).
 *
 * Each node heartbeats a liveness entry (`nodes`, on the Redis clock) every
 * `nodeTtlMs / 4`; a node that stopped for `nodeTtlMs` (the daemon died) is
 * dead and its claims are handed back by the next claim of another node
 * (claims.ts). The timer is unref'd. After `stop()` nothing heartbeats or
 * logs; `end()` completes `wake$`.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import { Subject, type Observable } from 'rxjs';
import type { SpoolLogger } from '../spool.js';
import { heartbeatScript } from './claim-scripts.js';
import { safeUrl } from './connection.js';
import type { RedisKeys } from './keys.js';

export class NodePresence {
  /** This node's name in `nodes`, `owners` and `held:<node>`: host, pid and a random tag. */
  readonly node = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  private readonly wakeSubject = new Subject<void>();
  readonly wake$: Observable<void> = this.wakeSubject.asObservable();
  private readonly timer: NodeJS.Timeout;
  private stopped = false;
  private lost = false;

  constructor(
    private readonly redis: Redis,
    subscriber: Redis,
    private readonly keys: RedisKeys,
    private readonly nodeTtlMs: number,
    private readonly url: string,
    private readonly logger: SpoolLogger | undefined,
  ) {
    this.timer = setInterval(
      () => void this.heartbeat().catch(() => undefined),
      Math.max(50, Math.floor(nodeTtlMs / 4)),
    );
    this.timer.unref();
    subscriber.on('message', (channel: string, from: string) => {
      if (channel === keys.wake && from !== this.node) this.wakeSubject.next();
    });
    redis.on('close', () => this.onLost());
    redis.on('ready', () => this.onRestored());
  }

  get closed(): boolean {
    return this.stopped;
  }

  /** Keeps this node's claims its own. */
  async heartbeat(): Promise<void> {
    if (this.stopped) return;
    await heartbeatScript.run(this.redis, [this.keys.nodes], [this.node, this.nodeTtlMs]);
  }

  /** Wakes this daemon's scheduler now and the other daemons' through pub/sub. */
  wake(): void {
    this.wakeSubject.next();
    void this.redis.publish(this.keys.wake, this.node).catch(() => undefined);
  }

  /** No more heartbeats or connection notices (the spool is closing). */
  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
  }

  /** Completes `wake$` (the connections are closed). */
  end(): void {
    this.wakeSubject.complete();
  }

  private onLost(): void {
    if (this.stopped || this.lost) return;
    this.lost = true;
    this.logger?.warn(
      { component: 'spool', backend: 'redis', redis: safeUrl(this.url) },
      'Redis connection lost; reconnecting',
    );
  }

  private onRestored(): void {
    if (this.stopped || !this.lost) return;
    this.lost = false;
    this.logger?.info({ component: 'spool', backend: 'redis', redis: safeUrl(this.url) }, 'Redis connection restored');
    void this.heartbeat().catch(() => undefined);
    this.wakeSubject.next(); // messages may have fallen due while we could not look
  }
}
