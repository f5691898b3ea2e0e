import { patchSmtpServer } from '../src/inbound/patches.js';
import { startDnsServer } from '../test/helpers/dns-server.js';
import { startSink } from '../test/helpers/sink.js';
import { runLoad } from './smtp-load.js';
import { generateKeyPairSync } from 'node:crypto';
import { fileBackend, redisBackend } from './backend.js';
import { cpuSeconds, peakRssMiB, resetPeak, startDaemon, stopDaemon } from './daemon-process.js';

export interface DeliveryFigures {
  readonly name: string;
  readonly recipients: number;
  readonly seconds: number;
  readonly firstDeliverySeconds: number;
  readonly cpuPer1k: number;
  readonly peakRssMiB: number;
  readonly connections: number;
  readonly delivered: number;
}

/**
 * Loads `total` one-recipient messages spread over `domains` domains while
 * delivery is held, restarts the daemon in mx mode (its default concurrency, MX from a
 * local DNS server, a local sink on loopback) and times the drain.
 */
export async function benchDelivery(
  spool: string,
  opts: { name: string; total: number; domains: number; bytes: number; redis?: boolean; dkim?: boolean },
): Promise<DeliveryFigures> {
  const backend = opts.redis ? redisBackend() : fileBackend;
  const dkim: Record<string, string> = opts.dkim
    ? {
        SMTP_DKIM_SELECTOR: 'bench',
        SMTP_DKIM_DOMAIN: 'bench.test',
        SMTP_DKIM_PRIVATE_KEY: generateKeyPairSync('rsa', { modulusLength: 2048 })
          .privateKey.export({ type: 'pkcs8', format: 'pem' })
          .toString(),
      }
    : {};
  const zone: Record<string, { MX?: { exchange: string; priority: number }[]; A?: string[] }> = {
    'mx.test': { A: ['127.0.0.1'] },
  };
  for (let d = 0; d < opts.domains; d++) zone[`d${d}.test`] = { MX: [{ exchange: 'mx.test', priority: 10 }] };
  // the sink greets at once, like Postfix's smtp-sink in the side-by-side harness
  patchSmtpServer();
  const dns = await startDnsServer(zone);
  const sink = await startSink({ keepBodies: false });
  try {
    const held = await startDaemon(spool, { ...backend.env(spool), SMTP_DELIVERY_MODE: 'hold' });
    await runLoad(held.port, {
      sessions: 20,
      total: opts.total,
      bytes: opts.bytes,
      perConnection: 0,
      recipients: (n) => [`r${n}@d${n % opts.domains}.test`],
    });
    await stopDaemon(held.child);
    const loaded = await backend.stored(spool);
    if (loaded !== opts.total) throw new Error(`loaded ${loaded} of ${opts.total}`);

    const started = process.hrtime.bigint();
    const live = await startDaemon(spool, {
      ...backend.env(spool),
      ...dkim,
      SMTP_DELIVERY_MODE: 'mx',
      SMTP_DNS_SERVERS: `127.0.0.1:${dns.port}`,
      SMTP_OUTBOUND_PORT: String(sink.port),
    });
    const pid = live.child.pid ?? 0;
    await resetPeak(pid);
    const cpu0 = await cpuSeconds(pid);
    let first = 0;
    const deadline = Date.now() + 600_000;
    for (;;) {
      const got = sink.transactions();
      if (got > 0 && first === 0) first = Number(process.hrtime.bigint() - started) / 1e9;
      if (got >= opts.total || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const cpu = (await cpuSeconds(pid)) - cpu0;
    const peak = await peakRssMiB(pid);
    await stopDaemon(live.child);
    return {
      name: opts.name,
      recipients: opts.total,
      seconds,
      firstDeliverySeconds: first,
      cpuPer1k: (cpu / opts.total) * 1000,
      peakRssMiB: peak,
      connections: sink.connections(),
      delivered: sink.transactions(),
    };
  } finally {
    await sink.close();
    await dns.close();
    await backend.cleanup();
  }
}
