import { Redis } from 'ioredis';

export interface ConnectionOptions {
  readonly url: string;
  /** A command without a reply by then fails (Redis hung or unreachable). */
  readonly commandTimeoutMs: number;
  readonly connectTimeoutMs: number;
}

/**
 * The command connection. It fails fast instead of queueing: while Redis is
 * unreachable every command rejects at once (no offline queue), and commands
 * in flight when the connection drops are failed rather than sent again after
 * the reconnect (an APPEND or a claim must not run twice). ioredis keeps
 * reconnecting in the background; the queue itself lives in Redis, so nothing
 * is lost meanwhile.
 */
export function createClient(o: ConnectionOptions): Redis {
  return new Redis(o.url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    commandTimeout: o.commandTimeoutMs,
    connectTimeout: o.connectTimeoutMs,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
  });
}

/** The pub/sub connection: resubscribes by itself after a reconnect. */
export function createSubscriber(client: Redis): Redis {
  return client.duplicate({ enableOfflineQueue: true, maxRetriesPerRequest: null, autoResubscribe: true });
}

/** The URL as it may be logged: password masked. */
export function safeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '****';
    return parsed.toString();
  } catch {
    return 'redis://(unparsable URL)';
  }
}
