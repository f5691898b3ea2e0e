/**
 * Fetching an MTA-STS policy (RFC 8461 §3.3): `GET
 * https://mta-sts.<domain>/.well-known/mta-sts.txt`, the name resolved
 * through the daemon's resolver (SMTP_DNS_SERVERS), the certificate checked
 * against `mta-sts.<domain>` with the system's CAs and SMTP_OUTBOUND_CA_FILE's,
 * redirects refused, at most 64 KiB, within a time limit.
 *
 * In: the domain. Out: the policy text, or why there is none (never throws).
 */
import type { LookupAddress, LookupOptions } from 'node:dns';
import { request } from 'node:https';
import type { ClientRequest, IncomingMessage } from 'node:http';
import type { DnsResolver } from '../../dns/resolver.js';

export type FetchResult = { readonly ok: true; readonly text: string } | { readonly ok: false; readonly why: string };

export interface StsFetchOptions {
  readonly resolver: Pick<DnsResolver, 'resolve4' | 'resolve6'>;
  /** Trusted CAs (the system's plus SMTP_OUTBOUND_CA_FILE's); node's own when absent. */
  readonly ca?: readonly string[];
  /** Whole fetch, connecting included. Default 10 s. */
  readonly timeoutMs?: number;
  /** Largest policy read. Default 64 KiB (RFC 8461 §3.3 says senders may limit it so). */
  readonly maxBytes?: number;
  /** The HTTPS port: 443, other only in tests. */
  readonly port?: number;
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/** node's `lookup` through our resolver: A records first, then AAAA. */
export function lookupThrough(resolver: StsFetchOptions['resolver']) {
  return (hostname: string, options: LookupOptions, callback: LookupCallback): void => {
    const both = Promise.allSettled([resolver.resolve4(hostname), resolver.resolve6(hostname)]);
    void both.then(([v4, v6]) => {
      const addresses: LookupAddress[] = [
        ...(v4.status === 'fulfilled' ? v4.value.map((r) => ({ address: r.address, family: 4 })) : []),
        ...(v6.status === 'fulfilled' ? v6.value.map((r) => ({ address: r.address, family: 6 })) : []),
      ];
      const first = addresses[0];
      if (!first) {
        callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), '', 0);
      } else if (options.all) callback(null, addresses);
      else callback(null, first.address, first.family);
    });
  };
}

function readBody(response: IncomingMessage, maxBytes: number): Promise<FetchResult> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    response.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        response.destroy();
        resolve({ ok: false, why: `the policy is larger than ${maxBytes} bytes` });
      } else chunks.push(chunk);
    });
    response.on('end', () => resolve({ ok: true, text: Buffer.concat(chunks).toString('utf8') }));
    response.on('error', (error) => resolve({ ok: false, why: `reading the policy failed: ${error.message}` }));
  });
}

export function fetchStsPolicy(domain: string, options: StsFetchOptions): Promise<FetchResult> {
  const host = `mta-sts.${domain}`;
  const timeoutMs = options.timeoutMs ?? 10_000;
  return new Promise((resolve) => {
    const done = (result: FetchResult): void => {
      clearTimeout(timer);
      resolve(result);
    };
    let req: ClientRequest;
    try {
      req = request(
        {
          host,
          port: options.port ?? 443,
          path: '/.well-known/mta-sts.txt',
          servername: host,
          rejectUnauthorized: true,
          ...(options.ca ? { ca: [...options.ca] } : {}),
          lookup: lookupThrough(options.resolver),
          agent: false,
        },
        (response) => {
          const status = response.statusCode ?? 0;
          if (status !== 200) {
            response.destroy();
            const where = response.headers.location
              ? ` to ${response.headers.location} (redirects are not followed)`
              : '';
            done({ ok: false, why: `https://${host}/.well-known/mta-sts.txt answered HTTP ${status}${where}` });
            return;
          }
          void readBody(response, options.maxBytes ?? 65_536).then(done);
        },
      );
    } catch (error) {
      // node refuses some names outright (a character it cannot put in a Host header): no policy, no crash
      resolve({
        ok: false,
        why: `fetching the policy from ${host} failed: ${error instanceof Error ? error.message : String(error)}`,
      });
      return;
    }
    const timer = setTimeout(() => {
      req.destroy();
      done({ ok: false, why: `fetching the policy from ${host} took longer than ${timeoutMs} ms` });
    }, timeoutMs);
    req.on('error', (error) => done({ ok: false, why: `fetching the policy from ${host} failed: ${error.message}` }));
    req.end();
  });
}
