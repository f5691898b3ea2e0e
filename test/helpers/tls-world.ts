/**
 * A small outbound-TLS world for delivery tests: a test CA (its certificate
 * written to a file for SMTP_OUTBOUND_CA_FILE), a local DNS server, and four
 * sinks on one port at different loopback addresses, so one
 * SMTP_OUTBOUND_PORT reaches them all by MX name:
 *
 *   good       mx.good.test       127.0.0.2  STARTTLS, certificate for its name from the CA (sent with the CA's)
 *   expired    mx.expired.test    127.0.0.3  STARTTLS, the CA's certificate for its name, expired
 *   wrongname  mx.wrongname.test  127.0.0.4  STARTTLS, the CA's certificate for another name
 *   plain      mx.plain.test      127.0.0.5  no STARTTLS
 *
 *   const world = await startTlsWorld();
 *   world.route('verify-good.test', ['good']);   // MX of a domain: these hosts, in order
 *   … world.close()
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDnsServer, type RunningDnsServer } from './dns-server.js';
import { testCa, type Pem, type TestCa } from './pki.js';
import { startSink, type Sink, type SinkOptions } from './sink.js';

export type SinkKind = 'good' | 'expired' | 'wrongname' | 'plain';
export const SINK_KINDS: readonly SinkKind[] = ['good', 'expired', 'wrongname', 'plain'];

const ADDRESS: Readonly<Record<SinkKind, string>> = {
  good: '127.0.0.2',
  expired: '127.0.0.3',
  wrongname: '127.0.0.4',
  plain: '127.0.0.5',
};

export interface TlsWorld {
  readonly ca: TestCa;
  /** The CA certificate's file (SMTP_OUTBOUND_CA_FILE). */
  readonly caFile: string;
  readonly dir: string;
  readonly dns: RunningDnsServer;
  /** The port every sink listens on (SMTP_OUTBOUND_PORT). */
  readonly port: number;
  readonly sinks: Readonly<Record<SinkKind, Sink>>;
  /** The certificate a sink presents (its own first), PEM; undefined for `plain`. */
  certificate(kind: SinkKind): string | undefined;
  /** The loopback address of a sink (another MX name may point there). */
  address(kind: SinkKind): string;
  /** The MX host name of a sink. */
  mx(kind: SinkKind): string;
  /** Gives `domain` MX records for these sinks, preference in this order. */
  route(domain: string, kinds: readonly SinkKind[]): void;
  close(): Promise<void>;
}

async function certificates(ca: TestCa): Promise<Record<SinkKind, Pem | undefined>> {
  const good = await ca.issue('mx.good.test');
  return {
    // the whole chain, as servers send it: a DANE-TA record may name the CA by its digest
    good: { key: good.key, cert: `${good.cert.trim()}\n${ca.cert.trim()}\n` },
    expired: await ca.issue('mx.expired.test', { expired: true }),
    wrongname: await ca.issue('somewhere-else.test'),
    plain: undefined,
  };
}

async function startSinks(certs: Record<SinkKind, Pem | undefined>): Promise<Record<SinkKind, Sink>> {
  for (let tries = 0; ; tries += 1) {
    const started: Sink[] = [];
    try {
      let port = 0;
      const out: Partial<Record<SinkKind, Sink>> = {};
      for (const kind of SINK_KINDS) {
        const cert = certs[kind];
        const options: SinkOptions = cert ? { tls: 'starttls', certificate: cert } : {};
        const sink = await startSink({ ...options, host: ADDRESS[kind], port });
        started.push(sink);
        port = sink.port;
        out[kind] = sink;
      }
      return out as Record<SinkKind, Sink>;
    } catch (error) {
      // the first sink's free port was taken on another loopback address: start again elsewhere
      await Promise.all(started.map((s) => s.close()));
      if (tries >= 3) throw error;
    }
  }
}

export async function startTlsWorld(): Promise<TlsWorld> {
  const ca = await testCa();
  const dir = await mkdtemp(join(tmpdir(), 'gp-tls-'));
  const caFile = join(dir, 'ca.pem');
  await writeFile(caFile, ca.cert);
  const certs = await certificates(ca);
  const sinks = await startSinks(certs);
  const dns = await startDnsServer({});
  for (const kind of SINK_KINDS) dns.zone[`mx.${kind}.test`] = { A: [ADDRESS[kind]] };
  return {
    ca,
    caFile,
    dir,
    dns,
    port: sinks.good.port,
    sinks,
    certificate: (kind) => certs[kind]?.cert,
    address: (kind) => ADDRESS[kind],
    mx: (kind) => `mx.${kind}.test`,
    route: (domain, kinds) => {
      dns.zone[domain] = {
        ...dns.zone[domain],
        MX: kinds.map((kind, i) => ({ exchange: `mx.${kind}.test`, priority: 10 * (i + 1) })),
      };
    },
    close: async () => {
      await Promise.all(SINK_KINDS.map((kind) => sinks[kind].close()));
      await dns.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
