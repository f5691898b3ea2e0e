/**
 * Integration harness for the scheduler: a real file spool in a temp
 * directory, a local DNS server, real SMTP sinks, a real nodemailer
 * transport, and the audit events the scheduler reports.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Config } from '../../src/config/types.js';
import type { AuditEvent } from '../../src/domain/audit.js';
import type { MessageRecord } from '../../src/domain/envelope.js';
import { createResolver } from '../../src/dns/resolver.js';
import { createSmtpTransport } from '../../src/delivery/transport.js';
import type { Transport } from '../../src/delivery/transport.js';
import { startScheduler } from '../../src/queue/scheduler.js';
import type { SchedulerHandle, SchedulerOptions } from '../../src/queue/scheduler.js';
import { openFileSpool } from '../../src/spool/file-spool.js';
import type { Spool } from '../../src/spool/spool.js';
import { startDnsServer } from '../helpers/dns-server.js';
import type { DnsZone, RunningDnsServer } from '../helpers/dns-server.js';

export function testConfig(overrides: Partial<Config> = {}): Config {
  return {
    smtpPort: 2525,
    smtpBind: undefined,
    hostname: 'mta.sender.test',
    banner: 'GopherPost ready',
    debug: false,
    healthHost: undefined,
    healthPort: 8080,
    healthDisable: true,
    queuePath: './data/spool',
    queueWorkers: 4,
    retentionDays: 7,
    authUsers: [],
    authInsecure: false,
    allowNetworks: [],
    allowHosts: [],
    requireLocalDomain: true,
    tlsDisable: false,
    tlsCertPath: undefined,
    tlsKeyPath: undefined,
    dkim: undefined,
    maxMessageBytes: 10 * 1024 * 1024,
    maxRecipients: 100,
    maxMessagesPerConnection: 1000,
    commandTimeoutSeconds: 300,
    maxConnections: 1000,
    maxConnectionsPerIp: 20,
    deliveryMode: 'mx',
    relay: undefined,
    outboundPort: 25,
    outboundTlsVerify: false,
    outboundCa: undefined,
    tlsPolicy: new Map(),
    mtaSts: false,
    tlsRpt: undefined,
    dnsServers: [],
    retryBaseSeconds: 1,
    retryMaxSeconds: 4,
    queueLifetimeHours: 120,
    domainConcurrency: 10,
    destinationRecipientLimit: 50,
    destinationRates: new Map(),
    delayWarningHours: 0,
    tlsPort: undefined,
    submissionPort: undefined,
    proxyFrom: [],
    bareNewline: 'normalize',
    bounces: true,
    verifyInbound: false,
    queueBackend: 'file',
    redisUrl: 'redis://127.0.0.1:6379',
    redisPrefix: 'gopherpost:',
    adminToken: undefined,
    logLevel: 'silent',
    ...overrides,
  };
}

export const crlf = (...lines: string[]): Buffer => Buffer.from(lines.join('\r\n') + '\r\n');

export interface Harness {
  readonly dir: string;
  readonly spool: Spool;
  readonly dns: RunningDnsServer;
  readonly events: AuditEvent[];
  /**
   * Starts a scheduler (a transport with short timeouts is made for it), on `spool` or another one given, with
   * `isHeld` telling the destinations on hold.
   */
  start(
    config: Partial<Config>,
    options?: SchedulerOptions,
    through?: Spool,
    isHeld?: (domain: string) => boolean,
  ): SchedulerHandle;
  store(sender: string, recipients: readonly string[], body: Buffer, receivedAt?: number): Promise<MessageRecord>;
  /** Polls until `check` returns a value. */
  waitFor<T>(what: string, check: () => T | undefined | Promise<T | undefined>, timeoutMs?: number): Promise<T>;
  outcomes(recipient: string): Extract<AuditEvent, { type: 'delivery.outcome' }>[];
  close(): Promise<void>;
}

export async function createHarness(zone: DnsZone): Promise<Harness> {
  const dir = await mkdtemp(join(tmpdir(), 'gp-queue-'));
  const spool = await openFileSpool({ path: dir });
  const dns = await startDnsServer(zone);
  const events: AuditEvent[] = [];
  const running: { scheduler: SchedulerHandle; transport: Transport }[] = [];
  return {
    dir,
    spool,
    dns,
    events,
    start(overrides, options, through = spool, isHeld) {
      const config = testConfig({ dnsServers: [{ host: dns.address, port: dns.port }], ...overrides });
      const transport = createSmtpTransport({
        hostname: config.hostname,
        tlsVerify: config.outboundTlsVerify,
        connectionTimeoutMs: 2_000,
        greetingTimeoutMs: 2_000,
        socketTimeoutMs: 5_000,
        idleTimeoutMs: 2_000,
      });
      const scheduler = startScheduler({
        spool: through,
        config,
        resolver: createResolver(config.dnsServers, { timeoutMs: 500, tries: 1 }),
        transport,
        clock: Date.now,
        random: Math.random,
        onEvent: (e) => events.push(e),
        ...(isHeld ? { isHeld } : {}),
        options: { quickRetryBaseMs: 50, quickRetryMaxMs: 200, stopTimeoutMs: 2_000, ...options },
      });
      running.push({ scheduler, transport });
      return scheduler;
    },
    store: (sender, recipients, body, receivedAt = Date.now()) =>
      spool.store(
        { sender, recipients, clientAddress: '127.0.0.1', heloName: 'client.test', receivedAt },
        (async function* () {
          yield body;
        })(),
      ),
    async waitFor(what, check, timeoutMs = 10_000) {
      const started = Date.now();
      for (;;) {
        const value = await check();
        if (value !== undefined) return value;
        if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    outcomes: (recipient) =>
      events.filter(
        (e): e is Extract<AuditEvent, { type: 'delivery.outcome' }> =>
          e.type === 'delivery.outcome' && e.recipient === recipient,
      ),
    async close() {
      for (const { scheduler, transport } of running.splice(0)) {
        await scheduler.stop();
        await transport.close();
      }
      await spool.close();
      await dns.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
