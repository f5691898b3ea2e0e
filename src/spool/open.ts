import type { Config } from '../config/types.js';
import type { Logger } from '../log/logger.js';
import { openFileSpool } from './file-spool.js';
import { openRedisSpool } from './redis-spool.js';
import type { Spool } from './spool.js';

/** The spool backend SMTP_QUEUE_BACKEND names: the file spool, or Redis shared by several daemons. */
export function openSpool(config: Config, logger?: Logger): Promise<Spool> {
  switch (config.queueBackend) {
    case 'file':
      return openFileSpool({ path: config.queuePath });
    case 'redis':
      return openRedisSpool({ url: config.redisUrl, prefix: config.redisPrefix, retentionDays: config.retentionDays, ...(logger ? { logger } : {}) });
  }
}
