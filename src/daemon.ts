import type { AddressInfo } from 'node:net';
import type { Config } from './config/types.js';
import { createAuditBus, type AuditBus } from './audit/bus.js';
import { createResolver } from './dns/resolver.js';
import { createInboundServer, type InboundServer } from './inbound/server.js';
import { logAudit } from './log/audit-log.js';
import type { Logger } from './log/logger.js';
import { openFileSpool } from './spool/file-spool.js';
import type { Spool } from './spool/spool.js';

/** A running daemon: what tests and the CLI hold on to. */
export interface Daemon {
  readonly config: Config;
  readonly spool: Spool;
  readonly audit: AuditBus;
  readonly smtp: AddressInfo;
  /** Graceful stop: no new sessions, sessions finish within `graceMs`, deliveries return to the queue. */
  stop(graceMs?: number): Promise<void>;
  /** SIGHUP: re-read TLS certificates. */
  reload(): Promise<void>;
}

/**
 * The composition root: the only place where the stages meet. Each stage gets
 * the config and the interfaces it needs; nothing else imports across stages.
 */
export async function startDaemon(config: Config, logger: Logger): Promise<Daemon> {
  const audit = createAuditBus({ enabled: config.debug, replay: 1000 });
  const auditLog = logAudit(logger, audit.events$);
  const spool = await openFileSpool({ path: config.queuePath });
  const dns = createResolver(config.dnsServers);
  const reverseResolver = {
    reverse: async (ip: string) => [...(await dns.reverse(ip))],
    resolve4: async (name: string) => (await dns.resolve4(name)).map((a) => a.address),
    resolve6: async (name: string) => (await dns.resolve6(name)).map((a) => a.address),
  };
  let inbound: InboundServer;
  try {
    inbound = await createInboundServer({
      config,
      spool,
      resolver: reverseResolver,
      audit,
      now: Date.now,
      warn: (message) => logger.warn({ component: 'smtp' }, message),
      debug: (message) => logger.debug({ component: 'smtp' }, message),
    });
  } catch (error) {
    await spool.close();
    throw error;
  }
  let smtp: AddressInfo;
  try {
    smtp = await inbound.listen();
  } catch (error) {
    await spool.close();
    throw error;
  }
  logger.info({ component: 'smtp', address: smtp.address, port: smtp.port, spool: config.queuePath, mode: config.deliveryMode }, 'GopherPost listening');

  let stopping: Promise<void> | undefined;
  return {
    config,
    spool,
    audit,
    smtp,
    stop: (graceMs = 10_000) => {
      stopping ??= (async () => {
        await inbound.close(graceMs);
        await spool.close();
        auditLog.unsubscribe();
        audit.close();
        logger.info({ component: 'daemon' }, 'stopped');
      })();
      return stopping;
    },
    reload: async () => {
      await inbound.reloadTls();
      logger.info({ component: 'daemon' }, 'reloaded TLS certificates');
    },
  };
}
