import { mkdir } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Subscription } from 'rxjs';
import type { Config } from './config/types.js';
import type { Envelope } from './domain/envelope.js';
import { createAuditBus, type AuditBus } from './audit/bus.js';
import { createResolver, type DnsResolver } from './dns/resolver.js';
import type { HttpServerHandle } from './http/server.js';
import type { Readiness } from './http/deps.js';
import { patchSmtpServer } from './inbound/patches.js';
import { createInboundServer, type InboundServer } from './inbound/server.js';
import { loadTlsMaterial } from './inbound/tls.js';
import { logAudit } from './log/audit-log.js';
import type { Logger } from './log/logger.js';
import { retention$ } from './queue/retention.js';
import { openSpool } from './spool/open.js';
import type { Spool } from './spool/spool.js';

/** A running daemon: what tests and the CLI hold on to. */
export interface Daemon {
  readonly config: Config;
  readonly spool: Spool;
  readonly audit: AuditBus;
  readonly smtp: AddressInfo;
  /** The HTTP server (health, metrics, audit, admin API); undefined when disabled or its port was taken. */
  readonly http: HttpServerHandle | undefined;
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
  // smtp-server is patched in place: one that does not fit the patches stops the start here, before the spool opens
  patchSmtpServer();
  const audit = createAuditBus({ enabled: config.debug, replay: 1000 });
  const auditLog = logAudit(logger, audit.events$);
  // an ephemeral certificate takes a moment to make: do it while the spool loads
  const tlsReady = config.tlsDisable
    ? Promise.resolve()
    : loadTlsMaterial({ certPath: config.tlsCertPath, keyPath: config.tlsKeyPath, hostname: config.hostname }).then(
        () => undefined,
        () => undefined,
      );
  const spool = await openSpool(config, logger);
  const dns = createResolver(config.dnsServers);
  // delivery needs neither the certificate nor the listener: the queue starts draining at once
  const delivery = config.deliveryMode === 'hold' ? undefined : await startDelivery(config, spool, dns, audit);
  await tlsReady;
  let listener: { inbound: InboundServer; smtp: AddressInfo };
  try {
    listener = await startInbound(config, { spool, dns, audit, logger });
  } catch (error) {
    await delivery?.stop();
    await spool.close();
    throw error;
  }
  const { inbound, smtp } = listener;
  const readiness = (): Promise<Readiness> => readinessOf(inbound, spool);
  // HTTP (with metrics) and delivery are loaded only when used: SMTP_HEALTH_DISABLE
  // and SMTP_DELIVERY_MODE=hold leave koa, prom-client and nodemailer out of memory
  const observability = config.healthDisable
    ? undefined
    : await startObservability(config, { audit, spool, readiness, logger });
  const http = observability?.http;
  const sweeper = startRetention(config, spool, logger);

  // the readiness line operators and tests wait for: everything is up
  logger.info(
    {
      component: 'smtp',
      address: smtp.address,
      port: smtp.port,
      http: http?.port,
      spool: config.queuePath,
      mode: config.deliveryMode,
    },
    'GopherPost listening',
  );

  let stopping: Promise<void> | undefined;
  return {
    config,
    spool,
    audit,
    smtp,
    http,
    stop: (graceMs = 10_000) => {
      stopping ??= (async () => {
        await inbound.close(graceMs);
        sweeper.unsubscribe();
        await delivery?.stop(); // in-flight attempts finish (bounded); other claims go back untouched
        await observability?.stop(Math.min(graceMs, 1000));
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

/** The SMTP listener, bound; with the inbound authentication stage when SMTP_VERIFY_INBOUND is set. */
async function startInbound(
  config: Config,
  deps: { spool: Spool; dns: DnsResolver; audit: AuditBus; logger: Logger },
): Promise<{ inbound: InboundServer; smtp: AddressInfo }> {
  const { spool, dns, audit, logger } = deps;
  const resolver = {
    reverse: async (ip: string) => [...(await dns.reverse(ip))],
    resolve4: async (name: string) => (await dns.resolve4(name)).map((a) => a.address),
    resolve6: async (name: string) => (await dns.resolve6(name)).map((a) => a.address),
  };
  const authenticate = config.verifyInbound ? await inboundAuthentication(config, dns, audit) : undefined;
  const inbound = await createInboundServer({
    ...(authenticate ? { authenticate } : {}),
    config,
    spool,
    resolver,
    audit,
    now: Date.now,
    warn: (message) => logger.warn({ component: 'smtp' }, message),
    debug: (message) => logger.debug({ component: 'smtp' }, message),
  });
  return { inbound, smtp: await inbound.listen() };
}

/** Ready: the listener is bound and the spool takes writes. */
async function readinessOf(inbound: InboundServer, spool: Spool): Promise<Readiness> {
  if (!inbound.listening) return { ok: false, reason: 'SMTP listener is not bound' };
  try {
    await spool.check();
    return { ok: true };
  } catch (error) {
    return { ok: false, reason: `spool is not writable: ${error instanceof Error ? error.message : String(error)}` };
  }
}

/** The hourly sweep of finished messages past SMTP_RETENTION_DAYS. */
function startRetention(config: Config, spool: Spool, logger: Logger): Subscription {
  return retention$({ spool, retentionDays: config.retentionDays, clock: Date.now, intervalMs: 3_600_000 }).subscribe({
    next: (sweep) => {
      if (sweep.removed > 0)
        logger.info({ component: 'retention', removed: sweep.removed }, 'removed finished messages');
    },
    error: (error: unknown) =>
      logger.error({ component: 'retention', err: String(error) }, 'retention sweeper stopped'),
  });
}

/**
 * SMTP_VERIFY_INBOUND: the stage that checks SPF/DKIM/DMARC/ARC and prepends
 * Authentication-Results. mailauth (~25 MiB) is loaded only when this (or
 * DKIM signing) is configured. Messages stream through files under the
 * spool's tmp/ (emptied at start-up).
 */
async function inboundAuthentication(
  config: Config,
  dns: DnsResolver,
  audit: AuditBus,
): Promise<(body: AsyncIterable<Buffer>, envelope: Envelope, session: string) => AsyncIterable<Buffer>> {
  const tmpDir = join(config.queuePath, 'tmp', 'auth');
  await mkdir(tmpDir, { recursive: true, mode: 0o700 });
  const { authenticateInbound } = await import('./dkim/inbound.js');
  return (body, envelope, session) =>
    authenticateInbound(body, {
      ip: envelope.clientAddress,
      helo: envelope.heloName,
      sender: envelope.sender,
      hostname: config.hostname,
      resolver: dns,
      tmpDir,
      onResult: (r) =>
        audit.publish({
          type: 'message.authenticated',
          session,
          spf: r.spf,
          dkim: r.dkim.map((d) => `${d.domain}:${d.result}`),
          dmarc: r.dmarc,
          arc: r.arc,
        }),
    });
}

/** The koa server with metrics fed from the audit bus. */
async function startObservability(
  config: Config,
  deps: { audit: AuditBus; spool: Spool; readiness: () => Promise<Readiness>; logger: Logger },
): Promise<{ http: HttpServerHandle | undefined; stop: (graceMs: number) => Promise<void> }> {
  const [{ createHttpApp }, { startHttpServer }, { createMetrics, observeAudit }] = await Promise.all([
    import('./http/app.js'),
    import('./http/server.js'),
    import('./metrics/registry.js'),
  ]);
  const { audit, spool, readiness, logger } = deps;
  const metrics = createMetrics({
    queueDepth: () => spool.depth(),
    oldestWaitingAt: () => spool.oldestWaitingAt(),
    spoolCheck: () => spool.check(),
  });
  const feed = observeAudit(metrics, audit.raw$);
  const http = await startHttpServer(
    createHttpApp({ audit, metrics, spool, readiness, adminToken: config.adminToken, logger }),
    config.healthHost,
    config.healthPort,
    logger,
  ).catch((error: unknown) => {
    feed.unsubscribe();
    throw error;
  });
  return {
    http,
    stop: async (graceMs) => {
      await http?.close(graceMs);
      feed.unsubscribe();
    },
  };
}

/** The delivery scheduler with its SMTP transport (and DKIM signer when configured). */
async function startDelivery(
  config: Config,
  spool: Spool,
  dns: DnsResolver,
  audit: AuditBus,
): Promise<{ stop: () => Promise<void> }> {
  const [{ createSmtpTransport, transportOptionsFromConfig }, { startScheduler }] = await Promise.all([
    import('./delivery/transport.js'),
    import('./queue/scheduler.js'),
  ]);
  const transport = createSmtpTransport(transportOptionsFromConfig(config));
  const signer = config.dkim
    ? (await import('./dkim/signer.js')).createDkimSigner(config.dkim, config.hostname)
    : undefined;
  const scheduler = startScheduler({
    spool,
    config,
    resolver: dns,
    transport,
    ...(signer ? { signer } : {}),
    clock: Date.now,
    random: Math.random,
    onEvent: (event) => audit.publish(event),
  });
  return {
    stop: async () => {
      await scheduler.stop();
      await transport.close();
    },
  };
}
