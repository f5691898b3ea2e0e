/**
 * The SMTP_VERIFY_INBOUND stage as the daemon composes it.
 *
 * In: the config, the DNS resolver and the audit bus. Out: the function the
 * inbound listener passes each message body through (Authentication-Results
 * prepended). Its temporary directory under the spool is created here.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { AuditBus } from '../audit/bus.js';
import type { Config } from '../config/types.js';
import type { DnsResolver } from '../dns/resolver.js';
import type { Envelope } from '../domain/envelope.js';

/**
 * SMTP_VERIFY_INBOUND: the stage that checks SPF/DKIM/DMARC/ARC and prepends
 * Authentication-Results. mailauth (~25 MiB) is loaded only when this (or
 * DKIM signing) is configured. Messages stream through files under the
 * spool's tmp/ (emptied at start-up).
 */
export async function inboundAuthentication(
  config: Config,
  dns: DnsResolver,
  audit: AuditBus,
): Promise<(body: AsyncIterable<Buffer>, envelope: Envelope, session: string) => AsyncIterable<Buffer>> {
  const tmpDir = join(config.queuePath, 'tmp', 'auth');
  await mkdir(tmpDir, { recursive: true, mode: 0o700 });
  const { authenticateInbound } = await import('../dkim/inbound.js');
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
