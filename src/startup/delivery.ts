/**
 * The delivery stage as the composition root starts it: the SMTP transport,
 * the DKIM signer when configured, each destination's outbound TLS planner
 * (SMTP_TLS_POLICY), and the scheduler that drives them. Loaded only when
 * delivery runs (not in SMTP_DELIVERY_MODE=hold).
 */
import type { AuditBus } from '../audit/bus.js';
import type { Config } from '../config/types.js';
import type { Holds } from '../console/holds.js';
import type { DnsResolver } from '../dns/resolver.js';
import type { Spool } from '../spool/spool.js';
import { dkimFailure } from './failure.js';

/** The delivery scheduler with its SMTP transport (and DKIM signer when configured). */
export async function startDelivery(
  config: Config,
  spool: Spool,
  dns: DnsResolver,
  audit: AuditBus,
  holds: Holds,
): Promise<{ stop: () => Promise<void> }> {
  const [{ createSmtpTransport, transportOptionsFromConfig }, { startScheduler }, { createTlsPlanner }] =
    await Promise.all([
      import('../delivery/transport.js'),
      import('../queue/scheduler.js'),
      import('../delivery/tls/planner.js'),
    ]);
  const transport = createSmtpTransport(transportOptionsFromConfig(config));
  const { dkim } = config;
  const signer = dkim
    ? await import('../dkim/signer.js').then(({ createDkimSigner }) => {
        try {
          return createDkimSigner(dkim, config.hostname);
        } catch (error) {
          throw dkimFailure(error);
        }
      })
    : undefined;
  const scheduler = startScheduler({
    spool,
    config,
    resolver: dns,
    transport,
    ...(signer ? { signer } : {}),
    tls: createTlsPlanner(config.tlsPolicy),
    clock: Date.now,
    random: Math.random,
    onEvent: (event) => audit.publish(event),
    isHeld: (domain) => holds.isHeld(domain),
  });
  return {
    stop: async () => {
      await scheduler.stop();
      await transport.close();
    },
  };
}
