/**
 * Sends one domain's report to where its `_smtp._tls` record says (RFC 8460
 * §5): `mailto:` as a message stored into the spool (so it is DKIM-signed,
 * retried and bounced like any mail), `https:` as a POST of the gzipped
 * report (`application/tlsrpt+gzip`), the server's certificate checked
 * (with SMTP_OUTBOUND_CA_FILE's CAs), its name resolved through our resolver.
 */
import { request } from 'node:https';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import type { DnsResolver } from '../dns/resolver.js';
import { lookupThrough } from '../delivery/tls/sts-fetch.js';
import type { Spool } from '../spool/spool.js';
import { buildReportMail } from './report-mail.js';
import type { TlsReport } from './report.js';
import { parseTlsRptRecords, type Rua, type RuaResult } from './rua.js';

export interface SendDeps {
  readonly spool: Pick<Spool, 'store'>;
  readonly resolver: DnsResolver;
  readonly hostname: string;
  readonly ca?: readonly string[];
  /** The time of the mail (its Date and arrival). */
  readonly now: () => number;
  readonly random: () => number;
  readonly timeoutMs?: number;
}

export interface ReadyReport {
  readonly domain: string;
  readonly report: TlsReport;
  readonly fileName: string;
}

/** DNS answers that mean "no such record" rather than "could not ask". */
const ABSENT = new Set(['ENOTFOUND', 'ENODATA', 'NXDOMAIN']);

/** The report URIs of `domain`; undefined when it asks for none; throws when DNS could not say. */
export async function lookupRua(resolver: DnsResolver, domain: string): Promise<RuaResult | undefined> {
  try {
    return parseTlsRptRecords(await resolver.resolveTxt(`_smtp._tls.${domain}`));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== undefined && ABSENT.has(code)) return undefined;
    throw error;
  }
}

async function mail(deps: SendDeps, ready: ReadyReport, to: string, gzipped: Buffer): Promise<void> {
  const now = deps.now();
  const token = `${now.toString(36)}.${Math.floor(deps.random() * 2 ** 32).toString(36)}`;
  const { envelope, body } = buildReportMail({
    hostname: deps.hostname,
    domain: ready.domain,
    to,
    reportId: ready.report['report-id'],
    fileName: ready.fileName,
    gzipped,
    now,
    token,
  });
  await deps.spool.store(envelope, Readable.from([body]));
}

function post(deps: SendDeps, url: URL, gzipped: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        headers: { 'content-type': 'application/tlsrpt+gzip', 'content-length': String(gzipped.length) },
        ...(deps.ca ? { ca: [...deps.ca] } : {}),
        lookup: lookupThrough(deps.resolver),
        timeout: deps.timeoutMs ?? 30_000,
      },
      (response) => {
        response.resume();
        const status = response.statusCode ?? 0;
        if (status >= 200 && status < 300) resolve();
        else reject(new Error(`${url.href} answered HTTP ${status}`));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${url.href} did not answer in time`)));
    req.on('error', reject);
    req.end(gzipped);
  });
}

/** Sends the report to one URI; rejects when it could not be handed over (stored or POSTed). */
export async function sendReport(deps: SendDeps, ready: ReadyReport, rua: Rua): Promise<void> {
  const gzipped = gzipSync(Buffer.from(JSON.stringify(ready.report), 'utf8'));
  if (rua.kind === 'mailto') await mail(deps, ready, rua.address, gzipped);
  else await post(deps, rua.url, gzipped);
}
