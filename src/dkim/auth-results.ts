/**
 * The Authentication-Results header (RFC 8601) from mailauth's verdicts, and
 * the removal of forged ones: a received header that claims our authserv-id
 * (SMTP_HOSTNAME) was not written by us and MUST go (RFC 8601 §5), or a
 * reader would trust it.
 */
import type { AuthenticateResult } from 'mailauth';
import { rewriteHeaderBlock } from '../mail/header-block.js';

export type AuthVerdict = 'pass' | 'fail' | 'softfail' | 'neutral' | 'none' | 'temperror' | 'permerror' | 'policy';

export interface DkimVerdict {
  /** d= of the signature ('' when the message is not signed). */
  readonly domain: string;
  readonly selector: string;
  readonly result: AuthVerdict;
}

/** What the inbound check found, for the audit stream. */
export interface InboundAuthResult {
  readonly spf: AuthVerdict;
  /** One entry per signature; a single `none` entry when unsigned. */
  readonly dkim: readonly DkimVerdict[];
  readonly dmarc: AuthVerdict;
  readonly arc: AuthVerdict;
  /** The header as prepended, CRLF-terminated. */
  readonly header: string;
}

const VERDICTS: readonly AuthVerdict[] = [
  'pass',
  'fail',
  'softfail',
  'neutral',
  'none',
  'temperror',
  'permerror',
  'policy',
];

function verdictOf(result: string | undefined): AuthVerdict {
  if (result === 'temperr') return 'temperror';
  return VERDICTS.find((v) => v === result) ?? 'none';
}

/**
 * Our header from mailauth's result: its formatted Authentication-Results (the last header it returns; Received-SPF is
 * left out).
 */
export function summarize(result: AuthenticateResult, hostname: string): InboundAuthResult {
  const at = result.headers.lastIndexOf('Authentication-Results:');
  const header =
    at >= 0 ? result.headers.slice(at).replace(/(?:\r?\n)*$/, '\r\n') : `Authentication-Results: ${hostname}; none\r\n`;
  return {
    spf: result.spf ? verdictOf(result.spf.status.result) : 'none',
    dkim: result.dkim.results.map((r) => ({
      domain: r.signingDomain ?? '',
      selector: r.selector ?? '',
      result: verdictOf(r.status.result),
    })),
    dmarc: result.dmarc ? verdictOf(result.dmarc.status.result) : 'none',
    arc: result.arc ? verdictOf(result.arc.status.result) : 'none',
    header,
  };
}

/** When the checks could not run at all: temperror everywhere, the message still accepted. */
export function temporaryFailure(hostname: string): InboundAuthResult {
  return {
    spf: 'temperror',
    dkim: [{ domain: '', selector: '', result: 'temperror' }],
    dmarc: 'temperror',
    arc: 'temperror',
    header: `Authentication-Results: ${hostname};\r\n dkim=temperror;\r\n spf=temperror;\r\n dmarc=temperror\r\n`,
  };
}

/** authserv-id of an Authentication-Results line: the first token after the colon and any comments. */
export function authservId(field: string): string {
  const value = field.slice(field.indexOf(':') + 1).replace(/\r?\n[ \t]/g, ' ');
  const withoutComments = value.replace(/\([^)]*\)/g, ' ').trim();
  return (/^[^\s;]+/.exec(withoutComments)?.[0] ?? '').toLowerCase();
}

const HEADER_LIMIT = 256 * 1024;

/** The header block without Authentication-Results fields that name `hostname`; bytes kept as they are otherwise. */
export function dropForgedFields(headerBlock: Buffer, hostname: string): Buffer {
  const text = headerBlock.toString('latin1');
  const fields = text.split(/(?<=\n)(?![ \t])/);
  const own = hostname.toLowerCase();
  const kept = fields.filter((f) => !(/^authentication-results[ \t]*:/i.test(f) && authservId(f) === own));
  return kept.length === fields.length ? headerBlock : Buffer.from(kept.join(''), 'latin1');
}

/** Streams `source` with forged Authentication-Results removed from its header block (held up to 256 KiB). */
export function stripForgedResults(source: AsyncIterable<Buffer>, hostname: string): AsyncGenerator<Buffer> {
  // a block longer than the limit passes unchanged: a forged field beyond it would have to be parsed out of a stream
  return rewriteHeaderBlock(source, HEADER_LIMIT, (head, end) =>
    end < 0 ? [head] : [dropForgedFields(head.subarray(0, end), hostname), head.subarray(end)],
  );
}
