/**
 * A job's outbound TLS requirement: its destination's (SMTP_TLS_POLICY,
 * MTA-STS; tls/planner.ts), unless the message carries `TLS-Required: No`
 * (RFC 8689 §4.2.2) and is not tagged REQUIRETLS (the tag wins, §4.1): then
 * opportunistic STARTTLS, any certificate, whatever the domain's policies
 * say (policy `tls-required-no` in logs and metrics). The header is read
 * only when there is a policy to set aside, from the stored message's
 * header block (reading stops at its end).
 */
import { readHeaderBlock } from '../bounce/dsn.js';
import type { TlsRequirement } from '../delivery/tls/requirement.js';
import type { TlsPlanner } from '../delivery/tls/planner.js';
import type { DeliveryJob } from '../domain/job.js';
import { tlsRequiredNo } from '../mail/tls-required.js';
import type { Spool } from '../spool/spool.js';

export async function requirementOf(
  planner: TlsPlanner,
  spool: Pick<Spool, 'openBody'>,
  job: DeliveryJob,
): Promise<TlsRequirement> {
  const requirement = await planner.requirement(job.domain);
  const nothingToRelax = !requirement.requireTls && requirement.verify !== true;
  if (job.record.envelope.requireTls === true || nothingToRelax) return requirement;
  // an unreadable body fails the attempt anyway when it is sent; here it only means the header is not seen
  const headers = await spool
    .openBody(job.record)
    .then((body) => readHeaderBlock(body))
    .catch(() => Buffer.alloc(0));
  if (!tlsRequiredNo(headers)) return requirement;
  return { policy: 'tls-required-no', domain: job.domain, source: 'default', requireTls: false, verify: false };
}
