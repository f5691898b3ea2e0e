/**
 * A TLS report as mail (RFC 8460 §5.3): `multipart/report;
 * report-type="tlsrpt"` with the `TLS-Report-Domain` and
 * `TLS-Report-Submitter` headers, a short text part and the gzipped JSON
 * report as an `application/tlsrpt+gzip` attachment named per §5.1. From
 * the null sender, so a report never bounces; marked as a report in its
 * envelope, so its delivery is neither refused for TLS nor reported on. Pure.
 */
import { rfc5322Date } from '../bounce/status-fields.js';
import { ownMailEnvelope, type Envelope } from '../domain/envelope.js';

export interface ReportMailInput {
  readonly hostname: string;
  readonly domain: string;
  readonly to: string;
  readonly reportId: string;
  readonly fileName: string;
  /** The gzipped JSON report. */
  readonly gzipped: Buffer;
  readonly now: number;
  /** Unique token for the Message-ID and MIME boundary. */
  readonly token: string;
}

const CRLF = '\r\n';

function base64Lines(data: Buffer): string {
  return (data.toString('base64').match(/.{1,76}/g) ?? []).join(CRLF);
}

export function buildReportMail(input: ReportMailInput): { readonly envelope: Envelope; readonly body: Buffer } {
  const boundary = `=_gopherpost_tlsrpt_${input.token}`;
  const text = [
    `This is an aggregate TLS report (RFC 8460) from ${input.hostname}`,
    `for the policy domain ${input.domain}, report id ${input.reportId}.`,
  ].join(CRLF);
  const lines = [
    `From: TLS reports <noreply-smtp-tls-reporting@${input.hostname}>`,
    `To: <${input.to}>`,
    `Subject: Report Domain: ${input.domain}${CRLF} Submitter: ${input.hostname}${CRLF} Report-ID: <${input.reportId}>`,
    `Date: ${rfc5322Date(input.now)}`,
    `Message-ID: <${input.token}@${input.hostname}>`,
    `TLS-Report-Domain: ${input.domain}`,
    `TLS-Report-Submitter: ${input.hostname}`,
    'Auto-Submitted: auto-generated',
    'MIME-Version: 1.0',
    `Content-Type: multipart/report; report-type="tlsrpt";${CRLF} boundary="${boundary}"`,
    '',
    'This is a multipart message in MIME format.',
    '',
    `--${boundary}`,
    'Content-Type: text/plain; charset="us-ascii"',
    'Content-Transfer-Encoding: 7bit',
    '',
    text,
    '',
    `--${boundary}`,
    'Content-Type: application/tlsrpt+gzip',
    'Content-Transfer-Encoding: base64',
    `Content-Disposition: attachment;${CRLF} filename="${input.fileName}"`,
    '',
    base64Lines(input.gzipped),
    '',
    `--${boundary}--`,
    '',
  ];
  const envelope = ownMailEnvelope(input.to, input.hostname, input.now, 'tls-report');
  return { envelope, body: Buffer.from(lines.join(CRLF), 'utf8') };
}
