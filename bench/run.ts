/**
 * `npm run bench`: the daemon's own figures (SPEC §8), measured against the
 * built daemon as a child process on loopback, with a fresh spool.
 *
 * Inbound (a Node load generator, 20 sessions):
 *   W1   4 KiB messages, many per connection (durable msgs/s)
 *   W1c  the same, one message per connection
 *   W2   100 KiB messages
 *   W3   20 concurrent 10 MiB messages: the server's peak RSS
 *   W1a  W1 with audit logging on (records logged as JSON lines)
 *   W1s  W1a plus one /audit subscriber that never reads
 *   W1r  W1 on the Redis backend
 * Delivery (queue loaded while held, then drained by MX to a local sink, the daemon's defaults):
 *   D1   10,000 recipients over 10 domains, 4 KiB
 *   D1r  D1 on the Redis backend (REDIS_URL, default redis://127.0.0.1:6379)
 *   D1k  D1 with DKIM signing (RSA 2048)
 *   D3   20 × 10 MiB: peak RSS while delivering
 * Long runs, only when named in --only (issue 12's bars):
 *   SOAK    minutes of W1-style load in relay mode to a local sink, audit on
 *           with an /audit reader, daemon defaults: RSS, heap, fds over time,
 *           drain time (--soak-seconds=N, default 240)
 *   QSCALE  1,000,000 waiting recipients loaded through SMTP while held: peak
 *           RSS, restart to /readyz, claim cost at 1k messages vs the loaded
 *           spool (--qscale-recipients=N, default 1000000;
 *           --qscale-per-message=K, default 10)
 *
 * Options: --quick (fewer messages), --only=W1,D1, BENCH_SPOOL=/dir (where
 * spools live; default a temp dir), BENCH_JSON=1 (a machine-readable line),
 * BENCH_NODE_SINK=1 (SOAK: the Node sink even when smtp-sink is installed).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { benchDelivery } from './delivery.js';
import { fileBackend, redisBackend } from './backend.js';
import { cpuSeconds, peakRssMiB, resetPeak, startDaemon, stopDaemon } from './daemon-process.js';
import { runLoad } from './smtp-load.js';
import { runLongEntries } from './long-entries.js';

const quick = process.argv.includes('--quick');
const onlyArg = process.argv.find((a) => a.startsWith('--only='))?.slice(7);
const only = onlyArg ? new Set(onlyArg.split(',')) : undefined;
const wanted = (name: string): boolean => !only || only.has(name);
/** Entries that take minutes run only when --only names them. */
const named = (name: string): boolean => only?.has(name) ?? false;
const numberArg = (name: string, fallback: number): number => {
  const value = Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3));
  return Number.isFinite(value) && value > 0 ? value : fallback;
};
/** Inbound workloads run this many times each, in alternating order (ABBA…), with medians at the end. */
const reps = Math.max(1, Number(process.argv.find((a) => a.startsWith('--reps='))?.slice(7) ?? 1) || 1);

interface Workload {
  readonly name: string;
  readonly sessions: number;
  readonly total: number;
  readonly bytes: number;
  readonly perConnection: 0 | 1;
  /** Audit logging on (SMTP_DEBUG=true, HTTP up). */
  readonly audit?: boolean;
  /** With audit on: one /audit subscriber that never reads (slow consumers must not slow SMTP). */
  readonly stalledSubscriber?: boolean;
  /** The Redis backend instead of the file spool. */
  readonly redis?: boolean;
}

const inbound: Workload[] = [
  { name: 'W1', sessions: 20, total: quick ? 2000 : 10_000, bytes: 4096, perConnection: 0 },
  { name: 'W1c', sessions: 20, total: quick ? 1000 : 5000, bytes: 4096, perConnection: 1 },
  { name: 'W2', sessions: 20, total: quick ? 400 : 2000, bytes: 102_400, perConnection: 0 },
  { name: 'W3', sessions: 20, total: 20, bytes: 10_485_000, perConnection: 0 },
  { name: 'W1r', sessions: 20, total: quick ? 2000 : 10_000, bytes: 4096, perConnection: 0, redis: true },
  { name: 'W1a', sessions: 20, total: quick ? 2000 : 10_000, bytes: 4096, perConnection: 0, audit: true },
  {
    name: 'W1s',
    sessions: 20,
    total: quick ? 2000 : 10_000,
    bytes: 4096,
    perConnection: 0,
    audit: true,
    stalledSubscriber: true,
  },
];

/** Opens GET /audit and never reads from it: the slowest possible consumer. */
function stallSubscriber(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1' }, () => {
      socket.write('GET /audit HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n');
      socket.pause();
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

const results: Record<string, unknown>[] = [];
const round = (n: number, digits = 1): number => Math.round(n * 10 ** digits) / 10 ** digits;

async function runInbound(base: string): Promise<void> {
  const selected = inbound.filter((w) => wanted(w.name));
  if (selected.length === 0) return;
  console.log('\nInbound (durable: 250 only after fsync)\n');
  console.log(
    'workload | messages | size B | msgs/s | MiB/s | server CPU s/1k msgs | peak RSS MiB | stored | audit records dropped',
  );
  console.log('---|---:|---:|---:|---:|---:|---:|---|---:');
  const rows = new Map<string, { rate: number; cpu: number }[]>();
  for (let r = 0; r < reps; r++) {
    // alternate the order so no workload always runs first (or right after another)
    for (const w of r % 2 === 0 ? selected : [...selected].reverse()) {
      const row = await runInboundOnce(base, w);
      rows.set(w.name, [...(rows.get(w.name) ?? []), { rate: row.msgsPerSecond, cpu: row.cpuPer1k }]);
    }
  }
  if (reps === 1) return;
  console.log(`\nMedians of ${reps} runs each\n`);
  console.log('workload | msgs/s | server CPU s/1k msgs | msgs/s of each run');
  console.log('---|---:|---:|---');
  for (const [name, runs] of rows) {
    console.log(
      `${name} | ${median(runs.map((x) => x.rate))} | ${median(runs.map((x) => x.cpu))} | ${runs.map((x) => x.rate).join(', ')}`,
    );
  }
  const a = rows.get('W1a');
  const stalled = rows.get('W1s');
  if (a && stalled) {
    // each rep ran the two back to back (in alternating order), so the ratio within
    // a rep cancels the machine's slower drifts; its median is the figure to read
    const pairs = a.map((run, i) => ({
      rate: (stalled[i]?.rate ?? 0) / run.rate - 1,
      cpu: (stalled[i]?.cpu ?? 0) / run.cpu - 1,
    }));
    const pct = (x: number): string => `${x >= 0 ? '+' : ''}${round(x * 100)} %`;
    const rates = pairs.map((p) => p.rate);
    console.log(`\nW1s vs W1a (a subscriber that never reads), ${reps} back-to-back pairs:`);
    console.log(
      `  msgs/s: median ${pct(median(rates))} (pairs ${rates.map(pct).join(', ')}); medians of the runs ${pct(median(stalled.map((x) => x.rate)) / median(a.map((x) => x.rate)) - 1)}`,
    );
    console.log(`  server CPU per message: median ${pct(median(pairs.map((p) => p.cpu)))}`);
  }
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : round(((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2, 3);
}

async function runInboundOnce(base: string, w: Workload): Promise<{ msgsPerSecond: number; cpuPer1k: number }> {
  const spool = join(base, `${w.name}-${Date.now()}`);
  const backend = w.redis ? redisBackend() : fileBackend;
  const env: Record<string, string> = {
    ...backend.env(spool),
    ...(w.audit ? { SMTP_DEBUG: 'true', SMTP_HEALTH_DISABLE: 'false', SMTP_HEALTH_ADDR: '127.0.0.1:0' } : {}),
  };
  const { child, port, httpPort } = await startDaemon(spool, env);
  const pid = child.pid ?? 0;
  const stalled = w.stalledSubscriber && httpPort !== undefined ? await stallSubscriber(httpPort) : undefined;
  try {
    await resetPeak(pid);
    const cpu0 = await cpuSeconds(pid);
    const result = await runLoad(port, w);
    const cpu = (await cpuSeconds(pid)) - cpu0;
    const peak = await peakRssMiB(pid);
    const stored = await backend.stored(spool);
    const dropped = w.audit && httpPort !== undefined ? await droppedRecords(httpPort) : undefined;
    const rate = result.messages / result.seconds;
    const row = {
      workload: w.name,
      messages: w.total,
      bytes: w.bytes,
      msgsPerSecond: round(rate),
      mibPerSecond: round((rate * w.bytes) / 2 ** 20),
      cpuPer1k: round((cpu / w.total) * 1000, 3),
      peakRssMiB: round(peak),
      stored,
      ...(dropped === undefined ? {} : { auditDropped: dropped }),
    };
    results.push(row);
    console.log(
      `${w.name} | ${w.total} | ${w.bytes} | ${row.msgsPerSecond} | ${row.mibPerSecond} | ${row.cpuPer1k} | ${row.peakRssMiB} | ${stored === w.total ? 'ok' : `MISMATCH ${stored}`} | ${dropped ?? ''}`,
    );
    return row;
  } finally {
    stalled?.destroy();
    await stopDaemon(child);
    await backend.cleanup();
    await rm(spool, { recursive: true, force: true });
  }
}

/** The daemon's count of audit records dropped for slow subscribers (from /metrics). */
async function droppedRecords(httpPort: number): Promise<number | undefined> {
  const text = await fetch(`http://127.0.0.1:${httpPort}/metrics`).then(
    (r) => r.text(),
    () => '',
  );
  const line = /^gopherpost_audit_events_dropped_total (\d+)/m.exec(text);
  return line ? Number(line[1]) : undefined;
}

async function runDeliveries(base: string): Promise<void> {
  const runs = [
    { name: 'D1', total: quick ? 2000 : 10_000, domains: 10, bytes: 4096 },
    { name: 'D1r', total: quick ? 2000 : 10_000, domains: 10, bytes: 4096, redis: true },
    { name: 'D1k', total: quick ? 2000 : 10_000, domains: 10, bytes: 4096, dkim: true },
    { name: 'D3', total: 20, domains: 10, bytes: 10_485_000 },
  ].filter((r) => wanted(r.name));
  if (runs.length === 0) return;
  console.log('\nDelivery (queue loaded while held; drained by MX through a local DNS server to a local sink)\n');
  console.log(
    'workload | recipients | msgs/s | first delivery s | server CPU s/1k msgs | peak RSS MiB | msgs/connection | delivered',
  );
  console.log('---|---:|---:|---:|---:|---:|---:|---');
  for (const run of runs) {
    const spool = join(base, `${run.name}-${Date.now()}`);
    try {
      const f = await benchDelivery(spool, run);
      const row = {
        workload: f.name,
        recipients: f.recipients,
        msgsPerSecond: round(f.recipients / f.seconds),
        firstDeliverySeconds: round(f.firstDeliverySeconds, 2),
        cpuPer1k: round(f.cpuPer1k, 3),
        peakRssMiB: round(f.peakRssMiB),
        msgsPerConnection: round(f.delivered / Math.max(1, f.connections)),
        delivered: f.delivered,
      };
      results.push(row);
      console.log(
        `${f.name} | ${f.recipients} | ${row.msgsPerSecond} | ${row.firstDeliverySeconds} | ${row.cpuPer1k} | ${row.peakRssMiB} | ${row.msgsPerConnection} | ${f.delivered === f.recipients ? 'ok' : `MISSING ${f.recipients - f.delivered}`}`,
      );
    } finally {
      await rm(spool, { recursive: true, force: true });
    }
  }
}

const base = process.env.BENCH_SPOOL ?? (await mkdtemp(join(tmpdir(), 'gp-bench-')));
console.log(
  `GopherPost benchmark — ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}, spool under ${base}`,
);
await runInbound(base);
await runDeliveries(base);
results.push(
  ...(await runLongEntries(base, {
    soak: named('SOAK') ? { seconds: numberArg('soak-seconds', 240) } : undefined,
    qscale: named('QSCALE')
      ? {
          recipients: Math.floor(numberArg('qscale-recipients', 1_000_000)),
          perMessage: Math.floor(numberArg('qscale-per-message', 10)),
        }
      : undefined,
  })),
);
if (!process.env.BENCH_SPOOL) await rm(base, { recursive: true, force: true });
if (process.env.BENCH_JSON) console.log(JSON.stringify(results));
