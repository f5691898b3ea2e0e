import type { Config } from '../config/types.js';
import type { Logger } from '../log/logger.js';
import { openFileSpool } from './file-spool.js';
import type { Spool } from './spool.js';

/**
 * The spool backend SMTP_QUEUE_BACKEND names: the file spool, or Redis shared
 * by several daemons. The Redis client is loaded only when it is used (it
 * costs ~10 MiB of memory a file-spool daemon should not carry).
 */
export async function openSpool(config: Config, logger?: Logger): Promise<Spool> {
  switch (config.queueBackend) {
    case 'file':
      return openFileSpool({ path: config.queuePath, preallocate: true, ...(logger ? { logger } : {}) });
    case 'redis': {
      const { openRedisSpool } = await import('./redis-spool.js');
      return openRedisSpool({
        url: config.redisUrl,
        prefix: config.redisPrefix,
        retentionDays: config.retentionDays,
        ...(logger ? { logger } : {}),
      });
    }
  }
}
