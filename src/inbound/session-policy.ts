/**
 * Session policy: the decisions the session adapter asks for, in order of a
 * session's life (connect, MAIL, RCPT, close).
 *
 * Owns: the table of live sessions counted against SMTP_MAX_CONNECTIONS and
 *       SMTP_MAX_CONNECTIONS_PER_IP, and the audit events of a session's life.
 * In:   smtp-server sessions and addresses; the pure checks in policy/.
 * Out:  a Decision per step; audit events `session.start`, `session.close`
 *       and `rejected` (with the stage that rejected).
 */
import type { SMTPServerSession } from 'smtp-server';
import type { Config } from '../config/types.js';
import type { Decision } from '../domain/reply.js';
import { decideAccess, needsReverseLookup } from '../policy/access.js';
import { decideConnection } from '../policy/connections.js';
import { checkMailDsn, checkRcptDsn, type CommandArgs } from '../policy/dsn-params.js';
import { forwardConfirmedHostnames, type ReverseResolver } from '../policy/fcrdns.js';
import { checkRecipient } from '../policy/recipient.js';
import { checkSender } from '../policy/sender.js';
import { checkMessageCount } from '../policy/session-limits.js';
import type { AuditSink } from './audit-logger.js';
import { SessionTable } from './session-table.js';

export type SessionStage = 'connect' | 'auth' | 'mail' | 'rcpt' | 'data';

export interface SessionPolicyDeps {
  readonly config: Config;
  readonly resolver: ReverseResolver;
  readonly audit: AuditSink;
}

export class SessionPolicy {
  private readonly table = new SessionTable();

  constructor(private readonly deps: SessionPolicyDeps) {}

  /** Live sessions (admitted and not yet closed). */
  get sessions(): number {
    return this.table.total;
  }

  /** Before the banner: connection limits, then the allow lists; an admitted session is counted. */
  async admit(session: SMTPServerSession): Promise<Decision> {
    const decision = this.rejected(session, 'connect', await this.decideConnect(session));
    if (decision.kind === 'accept')
      this.deps.audit.publish({ type: 'session.start', session: session.id, client: session.remoteAddress });
    return decision;
  }

  /** MAIL FROM (SPEC §3): at most MAILMAX per connection; local-domain rule unless authenticated; RET, ENVID. */
  mailFrom(address: string, session: SMTPServerSession, args?: CommandArgs): Decision {
    const { config } = this.deps;
    const count = checkMessageCount(this.table.countMail(session.id), config);
    if (count.kind === 'reject') return this.rejected(session, 'mail', count);
    const rules = {
      requireLocalDomain: config.requireLocalDomain,
      hostname: config.hostname,
      authenticated: Boolean(session.user),
    };
    const sender = checkSender(address, rules);
    return this.rejected(session, 'mail', sender.kind === 'reject' ? sender : checkMailDsn(args));
  }

  /** RCPT TO: at most SMTP_MAX_RECIPIENTS per message; DSN's NOTIFY and ORCPT. */
  rcptTo(address: string, session: SMTPServerSession, args?: CommandArgs): Decision {
    const rules = { accepted: session.envelope.rcptTo.length, maxRecipients: this.deps.config.maxRecipients };
    const recipient = checkRecipient(address, rules);
    return this.rejected(session, 'rcpt', recipient.kind === 'reject' ? recipient : checkRcptDsn(args));
  }

  /** The session ended (told 221/421, or its socket closed); reported once. */
  closed(session: SMTPServerSession): void {
    if (!this.table.remove(session.id)) return;
    this.deps.audit.publish({ type: 'session.close', session: session.id, client: session.remoteAddress });
  }

  /** Passes `decision` through, publishing `rejected` when it is one. */
  rejected(session: SMTPServerSession, stage: SessionStage, decision: Decision): Decision {
    if (decision.kind === 'reject') {
      const { code, text } = decision;
      this.deps.audit.publish({
        type: 'rejected',
        session: session.id,
        client: session.remoteAddress,
        stage,
        code,
        reason: text,
      });
    }
    return decision;
  }

  private async decideConnect(session: SMTPServerSession): Promise<Decision> {
    const { config, resolver } = this.deps;
    const ip = session.remoteAddress;
    const counts = { total: this.table.total, forIp: this.table.forIp(ip) };
    const limit = decideConnection(counts, { max: config.maxConnections, perIp: config.maxConnectionsPerIp });
    if (limit.kind === 'reject') return limit;
    const allow = { networks: config.allowNetworks, hosts: config.allowHosts };
    const verifiedHostnames = needsReverseLookup(allow, ip) ? await forwardConfirmedHostnames(ip, resolver) : undefined;
    const access = decideAccess(verifiedHostnames ? { ip, verifiedHostnames } : { ip }, allow);
    if (access.kind === 'accept') this.table.add(session.id, ip);
    return access;
  }
}
