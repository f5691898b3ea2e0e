import { join } from 'node:path';
import type { Subscription } from 'rxjs';
import type { Config } from './config/types.js';
import { createAuditBus, type AuditBus } from './audit/bus.js';
import { openHolds, type Holds } from './console/holds.js';
import { createResolver, type DnsResolver } from './dns/resolver.js';
import type { HttpServerHandle } from './http/server.js';
import type { Readiness } from './http/deps.js';
import { patchSmtpServer } from './inbound/patches.js';
import { createInboundServer, type InboundServer } from './inbound/server.js';
import { failedListener, type ListenerAddresses } from './inbound/listeners.js';
import { inboundAuthentication } from './inbound/authentication-stage.js';
import { loadTlsMaterial } from './inbound/tls.js';
import { logAudit } from './log/audit-log.js';
import { logMail } from './log/mail-log.js';
import type { Logger } from './log/logger.js';
import { retention$ } from './queue/retention.js';
import { startDelivery, type DeliveryStage } from './startup/delivery.js';
import { startTlsReports, type TlsRptSeams } from './startup/tlsrpt.js';
import { openSpool } from './spool/open.js';
import {
  holdsFailure,
  listenFailure,
  spoolDirectoryFailure,
  spoolFailure,
  startupFailure,
  tlsFailure,
  type StartupError,
} from './startup/failure.js';
import type { Spool } from './spool/spool.js';

/** What the environment does not say: seams for tests. */
export interface DaemonOptions {
  /** The port MTA-STS policies are fetched from (443; a test's local policy host otherwise). */
  readonly mtaStsPort?: number;
  /** TLS reports: the clock that says which day it is, and how often they are looked at. */
  readonly tlsRpt?: TlsRptSeams;
}

/** A running daemon: what tests and the CLI hold on to. */
export interface Daemon {
  readonly config: Config;
  readonly spool: Spool;
  readonly audit: AuditBus;
  readonly smtp: ListenerAddresses; // SMTP_PORT's, with SMTP_TLS_PORT's and SMTP_SUBMISSION_PORT's beside it
  /** The HTTP server (health, metrics, audit, admin API); undefined when disabled (SMTP_HEALTH_DISABLE). */
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
export async function startDaemon(config: Config, logger: Logger, options: DaemonOptions = {}): Promise<Daemon> {
  // smtp-server is patched in place: one that does not fit the patches stops the start here, before the spool opens
  patchSmtpServer();
  const audit = createAuditBus({ enabled: config.debug, replay: 1000 });
  const auditLog = logAudit(logger, audit.events$);
  auditLog.add(logMail(logger, audit.raw$)); // the mail log, whatever SMTP_DEBUG says
  // an ephemeral certificate takes a moment to make: do it while the spool loads (a failure waits its turn)
  const tlsReady: Promise<StartupError | undefined> = config.tlsDisable
    ? Promise.resolve(undefined)
    : loadTlsMaterial({ certPath: config.tlsCertPath, keyPath: config.tlsKeyPath, hostname: config.hostname }).then(
        () => undefined,
        (error: unknown) => tlsFailure(error, config),
      );
  // What was started, stopped again (newest first) when a later stage fails.
  const undo: (() => Promise<void>)[] = [];
  try {
    return await startStages(config, logger, { audit, auditLog, tlsReady, undo, options });
  } catch (error) {
    for (const stop of undo.reverse()) await stop().catch(() => undefined);
    auditLog.unsubscribe();
    audit.close();
    throw startupFailure(error);
  }
}

/**
 * The start-up order: spool; HTTP (`/healthz` 200, `/readyz` 503 "starting");
 * delivery; the SMTP listener; then `/readyz` asks the real checks. So a probe
 * never sees SMTP accept while HTTP is down. Failures name the variable to
 * change (startup/failure.ts).
 */
async function startStages(
  config: Config,
  logger: Logger,
  deps: {
    audit: AuditBus;
    auditLog: Subscription;
    tlsReady: Promise<StartupError | undefined>;
    undo: (() => Promise<void>)[];
    options: DaemonOptions;
  },
): Promise<Daemon> {
  const { audit, auditLog, undo } = deps;
  const spool = await openSpool(config, logger).catch((error: unknown) => {
    throw spoolFailure(error, config);
  });
  undo.push(() => spool.close());
  const holdsPath = join(config.queuePath, 'holds.json');
  const holds = await openHolds(holdsPath).catch((e: unknown) => Promise.reject(holdsFailure(e, holdsPath)));
  // `/readyz` says "starting" until the SMTP listener is up, then asks the real checks
  const up: { inbound?: InboundServer } = {};
  const readiness = (): Promise<Readiness> =>
    up.inbound ? readinessOf(up.inbound, spool) : Promise.resolve({ ok: false, reason: 'starting' });
  // HTTP (with metrics) and delivery are loaded only when used: SMTP_HEALTH_DISABLE
  // and SMTP_DELIVERY_MODE=hold leave koa, prom-client and nodemailer out of memory
  const observability = config.healthDisable
    ? undefined
    : await startObservability(config, { audit, spool, readiness, logger, holds });
  if (observability) undo.push(() => observability.stop(0));
  const dns = createResolver(config.dnsServers);
  // delivery needs neither the certificate nor the listener: the queue starts draining at once
  const stage = { spool, dns, audit, holds, logger, ...deps.options };
  const delivery = config.deliveryMode === 'hold' ? undefined : await startDelivery(config, stage);
  if (delivery) undo.push(() => delivery.stop());
  const reports = delivery && (await startReports(config, delivery, { ...stage, seams: deps.options.tlsRpt }, undo));
  const tlsError = await deps.tlsReady;
  if (tlsError) throw tlsError;
  const { inbound, smtp } = await startInbound(config, { spool, dns, audit, logger });
  up.inbound = inbound;
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
        await reports?.stop(); // after delivery: its last TLS decisions are counted and written
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

/** TLS reports (SMTP_TLSRPT_*), in MX mode: they count what MX delivery does. */
async function startReports(
  config: Config,
  delivery: DeliveryStage,
  deps: { spool: Spool; dns: DnsResolver; audit: AuditBus; logger: Logger; seams: TlsRptSeams | undefined },
  undo: (() => Promise<void>)[],
): Promise<{ stop: () => Promise<void> } | undefined> {
  if (!config.tlsRpt || config.deliveryMode !== 'mx') return undefined;
  const reports = await startTlsReports(config, config.tlsRpt, {
    ...deps,
    ...(deps.seams ? { seams: deps.seams } : {}),
    stsPolicy: (domain) => delivery.stsPolicy(domain),
    stsFailure: (domain) => delivery.stsFailure(domain),
    ...(delivery.ca ? { ca: delivery.ca } : {}),
  });
  undo.push(() => reports.stop());
  return reports;
}

/** The SMTP listener, bound; with the inbound authentication stage when SMTP_VERIFY_INBOUND is set. */
async function startInbound(
  config: Config,
  deps: { spool: Spool; dns: DnsResolver; audit: AuditBus; logger: Logger },
): Promise<{ inbound: InboundServer; smtp: ListenerAddresses }> {
  const { spool, dns, audit, logger } = deps;
  const resolver = {
    reverse: async (ip: string) => [...(await dns.reverse(ip))],
    resolve4: async (name: string) => (await dns.resolve4(name)).map((a) => a.address),
    resolve6: async (name: string) => (await dns.resolve6(name)).map((a) => a.address),
  };
  const authenticate = config.verifyInbound
    ? await inboundAuthentication(config, dns, audit).catch((error: unknown) => {
        throw spoolDirectoryFailure(error, config.queuePath);
      })
    : undefined;
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
  const smtp = await inbound.listen().catch((error: unknown) => {
    const failed = failedListener(error, config); // SMTP_PORT's, SMTP_TLS_PORT's or SMTP_SUBMISSION_PORT's
    throw listenFailure(failed.cause, failed.listener);
  });
  return { inbound, smtp };
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

/** The koa server with metrics fed from the audit bus. */
async function startObservability(
  config: Config,
  deps: { audit: AuditBus; spool: Spool; readiness: () => Promise<Readiness>; logger: Logger; holds: Holds },
): Promise<{ http: HttpServerHandle; stop: (graceMs: number) => Promise<void> }> {
  const [{ createHttpApp }, { startHttpServer }, { createMetrics, observeAudit }, consoleFeeds] = await Promise.all([
    import('./http/app.js'),
    import('./http/server.js'),
    import('./metrics/registry.js'),
    import('./console/feeds.js'),
  ]);
  const { audit, spool, readiness, logger } = deps;
  const metrics = createMetrics({
    queueDepth: () => spool.depth(),
    oldestWaitingAt: () => spool.oldestWaitingAt(),
    spoolCheck: () => spool.check(),
  });
  const feed = observeAudit(metrics, audit.raw$);
  const consoleFeed = consoleFeeds.startConsoleFeeds({ events$: audit.raw$, spool, holds: deps.holds });
  feed.add(() => consoleFeed.stop());
  const http = await startHttpServer(
    createHttpApp({ audit, metrics, spool, readiness, adminToken: config.adminToken, logger, console: consoleFeed }),
    config.healthHost,
    config.healthPort,
    logger,
  ).catch((error: unknown) => {
    feed.unsubscribe();
    throw listenFailure(error, {
      what: 'HTTP',
      address: `${config.healthHost ?? '*'}:${config.healthPort}`,
      variables: ['SMTP_HEALTH_ADDR', 'SMTP_HEALTH_PORT', 'SMTP_HEALTH_DISABLE'],
    });
  });
  return {
    http,
    stop: async (graceMs) => {
      await http.close(graceMs);
      feed.unsubscribe();
    },
  };
}
