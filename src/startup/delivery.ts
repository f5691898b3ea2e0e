/**
 * The delivery stage as the composition root starts it: the SMTP transport,
 * the DKIM signer when configured, each destination's outbound TLS planner
 * (SMTP_TLS_POLICY with DANE's look-ups for its `dane` entries, and MTA-STS
 * with its policy cache when SMTP_MTA_STS is on in MX mode), and the scheduler that drives them. Loaded only when
 * delivery runs (not in SMTP_DELIVERY_MODE=hold).
 */
import { join } from 'node:path';
import type { AuditBus } from '../audit/bus.js';
import type { Config } from '../config/types.js';
import type { Holds } from '../console/holds.js';
import type { DnsResolver } from '../dns/resolver.js';
import type { DkimSigner } from '../dkim/signer.js';
import type { DaneSource, StsSource } from '../delivery/tls/planner.js';
import type { StsCache } from '../delivery/tls/sts-cache.js';
import type { StsPolicy } from '../delivery/tls/sts-policy.js';
import type { StsFailures, StsFailureType } from '../tlsrpt/sts-failures.js';
import type { Logger } from '../log/logger.js';
import type { Spool } from '../spool/spool.js';
import { dkimFailure } from './failure.js';

export interface DeliveryDeps {
  readonly spool: Spool;
  readonly dns: DnsResolver;
  readonly audit: AuditBus;
  readonly holds: Holds;
  readonly logger: Logger;
  /** The port MTA-STS policies are fetched from: 443 but in tests. */
  readonly mtaStsPort?: number;
}

/** What the running delivery stage offers the rest of the daemon. */
export interface DeliveryStage {
  stop(): Promise<void>;
  /** The MTA-STS policy cached for a domain (TLS reports name it); undefined without one. */
  stsPolicy(domain: string): StsPolicy | undefined;
  /** Why a domain's MTA-STS policy could not be had just now (TLS reports count it); undefined otherwise. */
  stsFailure(domain: string): StsFailureType | undefined;
  /** The CAs outbound TLS trusts (the system's plus SMTP_OUTBOUND_CA_FILE's); undefined: node's own. */
  readonly ca: readonly string[] | undefined;
}

/** The delivery scheduler with its SMTP transport (and DKIM signer when configured). */
export async function startDelivery(config: Config, deps: DeliveryDeps): Promise<DeliveryStage> {
  const { spool, dns, audit, holds } = deps;
  const [{ createSmtpTransport, transportOptionsFromConfig }, { startScheduler }, { createTlsPlanner }] =
    await Promise.all([
      import('../delivery/transport.js'),
      import('../queue/scheduler.js'),
      import('../delivery/tls/planner.js'),
    ]);
  const transportOptions = transportOptionsFromConfig(config);
  const transport = createSmtpTransport(transportOptions);
  const signer = await dkimSigner(config);
  const sts =
    config.mtaSts && config.deliveryMode === 'mx' ? await startMtaSts(config, deps, transportOptions.ca) : undefined;
  const scheduler = startScheduler({
    spool,
    config,
    resolver: dns,
    transport,
    ...(signer ? { signer } : {}),
    tls: createTlsPlanner(config.tlsPolicy, sts?.source, await daneSource(config, deps.logger)),
    clock: Date.now,
    random: Math.random,
    onEvent: (event) => audit.publish(event),
    isHeld: (domain) => holds.isHeld(domain),
  });
  return {
    stop: async () => {
      await scheduler.stop();
      await transport.close();
      await sts?.cache.flush();
    },
    stsPolicy: (domain) => {
      const cached = sts?.cache.get(domain);
      return cached && cached.expiresAt > Date.now() ? cached.policy : undefined;
    },
    stsFailure: (domain) => sts?.failures.failureOf(domain),
    ca: transportOptions.ca,
  };
}

/** DANE's look-ups through the validating resolver, when a SMTP_TLS_POLICY entry asks for `dane` (MX mode). */
async function daneSource(config: Config, logger: Logger): Promise<DaneSource | undefined> {
  if (config.deliveryMode !== 'mx' || ![...config.tlsPolicy.values()].includes('dane')) return undefined;
  if (config.dnsServers.length === 0) {
    logger.warn(
      { component: 'dane' },
      'SMTP_TLS_POLICY has dane entries and SMTP_DNS_SERVERS is unset: the AD bit of the system resolvers is ' +
        'trusted; it should be a local DNSSEC-validating resolver',
    );
  }
  const [{ createSecureDns }, { lookupDane }] = await Promise.all([
    import('../dns/secure-query.js'),
    import('../delivery/tls/dane-lookup.js'),
  ]);
  const dns = createSecureDns(config.dnsServers);
  return (domain) => lookupDane(domain, config.outboundPort, dns);
}

/** The DKIM signer of SMTP_DKIM_*, if configured; a bad key stops the start. */
async function dkimSigner(config: Config): Promise<DkimSigner | undefined> {
  const { dkim } = config;
  if (!dkim) return undefined;
  const { createDkimSigner } = await import('../dkim/signer.js');
  try {
    return createDkimSigner(dkim, config.hostname);
  } catch (error) {
    throw dkimFailure(error);
  }
}

/** MTA-STS (SMTP_MTA_STS): the policy source over its cache file in SMTP_QUEUE_PATH, its look-ups logged. */
async function startMtaSts(
  config: Config,
  deps: DeliveryDeps,
  ca: readonly string[] | undefined,
): Promise<{ source: StsSource; cache: StsCache; failures: StsFailures }> {
  const [{ openStsCache }, { fetchStsPolicy }, { StsResolver }, { createStsFailures }] = await Promise.all([
    import('../delivery/tls/sts-cache.js'),
    import('../delivery/tls/sts-fetch.js'),
    import('../delivery/tls/sts-source.js'),
    import('../tlsrpt/sts-failures.js'),
  ]);
  const failures = createStsFailures({ clock: Date.now });
  const log = deps.logger.child({ component: 'mta-sts' });
  const cache = await openStsCache(join(config.queuePath, 'mta-sts.json'), {
    clock: Date.now,
    onError: (message) => log.warn(message),
  });
  const fetchOptions = {
    resolver: deps.dns,
    ...(ca ? { ca } : {}),
    ...(deps.mtaStsPort ? { port: deps.mtaStsPort } : {}),
  };
  const source = new StsResolver({
    resolver: deps.dns,
    fetch: (domain) => fetchStsPolicy(domain, fetchOptions),
    cache,
    clock: Date.now,
    report: (r) => {
      failures.note(r);
      if (r.kind === 'fetched')
        log.info(
          { domain: r.domain, id: r.id, mode: r.policy.mode, mx: r.policy.mx, maxAge: r.policy.maxAge },
          'policy fetched',
        );
      else log.warn({ domain: r.domain, why: r.why, kept: r.kept?.mode ?? 'none' }, 'policy look-up failed');
    },
  });
  return { source, cache, failures };
}
