/**
 * The DATA receiver: one message from smtp-server's DATA stream into the spool.
 *
 * Owns: the envelope of a message, its trace headers, and the order of the
 *       body's stages: size limit → line endings (SMTP_BARE_NEWLINE) →
 *       inbound authentication (when configured) → Received/Message-ID → spool.
 * In:   the DATA stream and its session (envelope, client, HELO, user).
 * Out:  the 250 text (`Ok: queued as <id>`) once the spool holds the message
 *       durably, with the audit event `message.stored` (what the mail log's
 *       `received` line says); or the error that
 *       stopped it (SizeLimitError, BareNewlineError, SpoolError), for the
 *       adapter to answer.
 *       Either way what is left of DATA is read first, so the reply lines up.
 */
import type { SMTPServerDataStream, SMTPServerSession } from 'smtp-server';
import type { BareNewline, Config } from '../config/types.js';
import type { Envelope } from '../domain/envelope.js';
import { normalizeLineEndings, refuseBareNewlines } from '../mail/line-endings.js';
import { commandArgs, envelopeDsn } from '../policy/dsn-params.js';
import type { Spool } from '../spool/spool.js';
import type { AuditSink } from './audit-logger.js';
import { addTraceHeaders, limitSize, receivedValue } from './message-stream.js';

/** SMTP_VERIFY_INBOUND: a stage that prepends Authentication-Results. */
export type InboundAuthentication = (
  body: AsyncIterable<Buffer>,
  envelope: Envelope,
  session: string,
) => AsyncIterable<Buffer>;

export interface DataReceiverDeps {
  readonly config: Config;
  readonly spool: Spool;
  readonly audit: AuditSink;
  readonly now: () => number;
  readonly authenticate?: InboundAuthentication;
}

export class DataReceiver {
  constructor(private readonly deps: DataReceiverDeps) {}

  /** Streams the message into the spool; resolves with the 250 text. */
  async receive(stream: SMTPServerDataStream, session: SMTPServerSession): Promise<string> {
    const envelope = envelopeOf(session, this.deps.now());
    try {
      const record = await this.deps.spool.store(envelope, this.body(stream, envelope, session));
      const { id, size } = record;
      const tls = tlsProtocolOf(session);
      this.deps.audit.publish({
        type: 'message.stored',
        session: session.id,
        id,
        sender: envelope.sender,
        recipients: envelope.recipients.length,
        size,
        to: record.envelope.recipients,
        client: envelope.clientAddress,
        ...(tls === undefined ? {} : { tls }),
        ...(envelope.user === undefined ? {} : { user: envelope.user }),
        receiptMs: Math.max(0, this.deps.now() - envelope.receivedAt),
      });
      return `Ok: queued as ${record.id}`;
    } finally {
      await drain(stream);
    }
  }

  /** The body as the spool gets it: limited, its line endings checked, authenticated, traced. */
  private body(stream: SMTPServerDataStream, envelope: Envelope, session: SMTPServerSession): AsyncIterable<Buffer> {
    const { config, authenticate } = this.deps;
    // destroyOnReturn: false — stopping early (size limit, storage error) must not destroy
    // smtp-server's stream: the rest of DATA is drained so the reply lines up.
    const source = stream.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>;
    const limited = lineEndings(limitSize(source, config.maxMessageBytes), config.bareNewline);
    // Authentication-Results sits right under our Received line, as the same hop's verdict
    const checked = authenticate ? authenticate(limited, envelope, session.id) : limited;
    return addTraceHeaders(checked, { received: this.received(envelope, session), hostname: config.hostname });
  }

  /** The Received: value for this hop. */
  private received(envelope: Envelope, session: SMTPServerSession): string {
    const { recipients } = envelope;
    return receivedValue({
      heloName: envelope.heloName,
      clientHostname: undefined,
      clientAddress: envelope.clientAddress,
      hostname: this.deps.config.hostname,
      protocol: `${session.transmissionType ?? 'ESMTP'}`,
      sessionId: session.id,
      recipient: recipients.length === 1 ? recipients[0] : undefined,
      at: envelope.receivedAt,
    });
  }
}

/** SMTP_BARE_NEWLINE: a lone CR or LF made CRLF, refused (BareNewlineError), or kept as received. */
function lineEndings(body: AsyncIterable<Buffer>, mode: BareNewline): AsyncIterable<Buffer> {
  if (mode === 'normalize') return normalizeLineEndings(body);
  return mode === 'reject' ? refuseBareNewlines(body) : body;
}

/** The envelope smtp-server collected, as the spool stores it (DSN parameters included when given). */
function envelopeOf(session: SMTPServerSession, at: number): Envelope {
  const mail = session.envelope.mailFrom;
  const mailArgs = mail === false ? undefined : commandArgs(mail.args);
  const dsn = envelopeDsn(
    mailArgs,
    session.envelope.rcptTo.map((r) => ({ address: r.address, args: commandArgs(r.args) })),
  );
  return {
    sender: mail === false ? '' : mail.address,
    recipients: session.envelope.rcptTo.map((r) => r.address),
    clientAddress: session.remoteAddress,
    heloName: session.hostNameAppearsAs ?? '',
    receivedAt: at,
    ...(typeof session.user === 'string' ? { user: session.user } : {}),
    ...(dsn ? { dsn } : {}),
    // accepted only in a TLS session (requiretls-patch.ts)
    ...(mailArgs?.['REQUIRETLS'] === true ? { requireTls: true as const } : {}),
  };
}

/** The session's TLS protocol (`TLSv1.3`), or `TLS` when unknown; undefined in clear. */
function tlsProtocolOf(session: SMTPServerSession): string | undefined {
  if (!session.secure) return undefined;
  // smtp-server keeps the socket's getCipher() here (its typings say TlsOptions)
  const cipher: unknown = session.tlsOptions;
  if (typeof cipher === 'object' && cipher !== null && 'version' in cipher && typeof cipher.version === 'string')
    return cipher.version;
  return 'TLS';
}

/** Reads whatever is left of DATA so the reply lines up with the end of the message. */
async function drain(stream: SMTPServerDataStream): Promise<void> {
  if (stream.readableEnded) return;
  await new Promise<void>((resolve) => {
    stream.on('end', resolve);
    stream.on('close', resolve);
    stream.on('error', () => resolve());
    stream.resume();
  });
}
