/**
 * The spool's two Redis connections (commands, and pub/sub for wake-ups):
 * how they behave while Redis is away, and opening them.
 */
import { Redis } from 'ioredis';
import { SpoolError } from '../spool.js';
import { messageOf, storageError } from '../storage-error.js';

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

/** The pub/sub connection (it subscribes through `subscribeTo`). */
export function createSubscriber(client: Redis): Redis {
  return client.duplicate({ enableOfflineQueue: true, maxRetriesPerRequest: null, autoResubscribe: false });
}

/**
 * Subscribes to `channel` now and again after every reconnect. Not ioredis'
 * `autoResubscribe`: its resubscription is a promise nothing awaits, so a
 * connection that drops again during it (or a close) rejects it unhandled,
 * which stops the daemon. Here a failed resubscription waits for the next
 * reconnect.
 */
export async function subscribeTo(subscriber: Redis, channel: string): Promise<void> {
  await subscriber.subscribe(channel);
  subscriber.on('ready', () => void subscriber.subscribe(channel).catch(() => undefined));
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

/**
 * Opens the command connection and a subscriber listening on `channel`.
 * Rejects with SpoolError (and leaves nothing open) when Redis cannot be
 * reached: a failure to connect at all names the address and the cause.
 */
export async function connect(o: ConnectionOptions, channel: string): Promise<{ redis: Redis; subscriber: Redis }> {
  const redis = createClient(o);
  let lastError: unknown;
  redis.on('error', (error: unknown) => void (lastError = error)); // later outages are logged on 'close'/'ready'
  try {
    await redis.connect();
  } catch (error) {
    redis.disconnect();
    const cause = lastError ?? error;
    throw new SpoolError(`Redis is unreachable at ${safeUrl(o.url)}: ${messageOf(cause)}`, { cause });
  }
  const subscriber = createSubscriber(redis);
  subscriber.on('error', () => undefined);
  try {
    await subscriber.connect();
    await subscribeTo(subscriber, channel);
    return { redis, subscriber };
  } catch (error) {
    redis.disconnect();
    subscriber.disconnect();
    throw storageError(error);
  }
}
