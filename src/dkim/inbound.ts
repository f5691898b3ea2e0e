/**
 * Inbound authentication (SMTP_VERIFY_INBOUND, SPEC §5) as a stream stage:
 *
 *   DATA bytes → temp file (0600) → mailauth authenticate (SPF for the client
 *   IP and MAIL FROM, DKIM, DMARC, ARC) over the file → yield
 *   `Authentication-Results: <hostname>; …` then the file's bytes again
 *   (forged Authentication-Results for our hostname removed) → temp file
 *   deleted, also when the consumer stops early or the source fails.
 *
 * The checks need the whole message (the DKIM body hash) before the header
 * can be written, so the message waits on disk, never in memory. DNS goes
 * through SMTP_DNS_SERVERS within one budget; a DNS failure is a temperror
 * verdict, never a lost message: whatever happens in the checks, the stage
 * yields the whole message.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { authenticate } from 'mailauth';
import type { AuthenticateOptions } from 'mailauth';
import type { DnsResolver } from '../dns/resolver.js';
import { stripForgedResults, summarize, temporaryFailure } from './auth-results.js';
import type { InboundAuthResult } from './auth-results.js';
import { mailauthResolver, withDeadline } from './resolver.js';

export type { AuthVerdict, DkimVerdict, InboundAuthResult } from './auth-results.js';

export interface InboundAuthContext {
  /** Client IP address. */
  readonly ip: string;
  /** HELO/EHLO name. */
  readonly helo: string;
  /** MAIL FROM; '' for the null sender. */
  readonly sender: string;
  /** SMTP_HOSTNAME: the authserv-id. */
  readonly hostname: string;
  /** The daemon's DNS seam (SMTP_DNS_SERVERS). */
  readonly resolver: DnsResolver;
  /** Where the message waits while it is checked (a private directory). */
  readonly tmpDir: string;
  /** All look-ups of one message share this budget. Default 15 s. */
  readonly dnsBudgetMs?: number;
  readonly now?: () => number;
  /** Called once with the verdicts, before the first byte is yielded (audit stream). */
  readonly onResult?: (result: InboundAuthResult) => void;
}

const DEFAULT_DNS_BUDGET_MS = 15_000;
const READ_CHUNK = 64 * 1024;

/** mailauth over the stored file; never rejects (a failure of the checks is a temperror verdict). */
export async function checkMessage(path: string, ctx: InboundAuthContext): Promise<InboundAuthResult> {
  const now = ctx.now ?? Date.now;
  const resolver = withDeadline(
    mailauthResolver(ctx.resolver),
    now() + (ctx.dnsBudgetMs ?? DEFAULT_DNS_BUDGET_MS),
    now,
  );
  const options: AuthenticateOptions = {
    ip: ctx.ip,
    helo: ctx.helo || ctx.ip,
    ...(ctx.sender !== '' ? { sender: ctx.sender } : {}),
    mta: ctx.hostname,
    // mailauth's typing of the resolver leaves out MX answers ({ exchange, priority }), which SPF needs
    resolver: resolver as unknown as NonNullable<AuthenticateOptions['resolver']>,
    trustReceived: false,
    disableBimi: true,
  };
  try {
    return summarize(await authenticate(createReadStream(path), options), ctx.hostname);
  } catch {
    return temporaryFailure(ctx.hostname);
  }
}

export async function* authenticateInbound(
  source: AsyncIterable<Buffer>,
  ctx: InboundAuthContext,
): AsyncGenerator<Buffer> {
  const path = join(ctx.tmpDir, `auth-${randomBytes(9).toString('hex')}.eml`);
  // opened before the copy starts: a write stream that opened its file lazily could
  // create it after a failed copy had already removed it (a leaked temp file)
  const file = await open(path, 'wx', 0o600);
  try {
    await pipeline(source, file.createWriteStream());
    const result = await checkMessage(path, ctx);
    try {
      ctx.onResult?.(result);
    } catch {
      // a listener's bug must not lose the message
    }
    yield Buffer.from(result.header, 'latin1');
    yield* stripForgedResults(createReadStream(path, { highWaterMark: READ_CHUNK }), ctx.hostname);
  } finally {
    await file.close().catch(() => undefined); // already closed when the copy finished
    await rm(path, { force: true });
  }
}
