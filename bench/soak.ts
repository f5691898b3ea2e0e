/**
 * SOAK (issue 12's soak bar): the built daemon on its defaults, relaying
 * everything to a local counting sink, audit on with one `/audit` reader
 * that keeps up, under the Node load generator at full rate (20 sessions,
 * 4 KiB, many messages per connection) for `seconds`. Every 2 s a sample
 * (every 10 s printed): accepted, delivered, RSS, V8 heap used, open fds,
 * queue depth. After the load, sampling goes on until everything accepted
 * has reached the sink (or 120 s). The verdicts are computed from the
 * samples taken under load (`soak-verdict.ts`).
 */
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { rm } from 'node:fs/promises';
import { openAuditReader, type AuditReader } from './audit-reader.js';
import { startCountingSink } from './counting-sink.js';
import { cpuSeconds, startDaemon, stopDaemon } from './daemon-process.js';
import { labelledValue, metricValue, round, sampleDaemon, sleep } from './sample.js';
import { runLoad } from './smtp-load.js';
import { soakVerdict, type SoakPoint, type SoakVerdict } from './soak-verdict.js';

/**
 * Samples every 2 s feed the verdicts (a heap's GC sawtooth needs more than one look per quarter); every 5th is
 * printed.
 */
const SAMPLE_MS = 2000;
const PRINT_EVERY = 5;
const DRAIN_LIMIT_MS = 120_000;

export interface SoakFigures {
  readonly sink: string;
  readonly loadSeconds: number;
  readonly accepted: number;
  readonly delivered: number;
  /** Seconds from the end of the load until the sink had everything accepted (undefined: not within 120 s). */
  readonly drainSeconds: number | undefined;
  readonly samples: readonly SoakPoint[];
  readonly verdict: SoakVerdict;
  readonly auditEvents: number;
  readonly auditDropped: number;
  /** Set when the /audit stream ended or failed during the run. */
  readonly auditEnded?: string;
  readonly daemonCpuSeconds: number;
  /** smtp-sink's CPU seconds (undefined for the in-process Node sink). */
  readonly sinkCpuSeconds: number | undefined;
  readonly sinkSessions: number;
  /** The daemon's own delivery counters at the end (`gopherpost_deliveries_total` by result). */
  readonly deliveries: Record<string, number>;
  /** Seconds from SIGTERM to the daemon's exit, after the drain (with its relay connections still open). */
  readonly stopSeconds: number;
  /** Set when the daemon exited on its own during the run. */
  readonly daemonExit?: string;
}

const f = (n: number, digits = 1): string => (Number.isFinite(n) ? String(round(n, digits)) : 'n/a');

export async function runSoak(base: string, seconds: number): Promise<SoakFigures> {
  const spool = join(base, `SOAK-${Date.now()}`);
  const sink = await startCountingSink();
  console.log(
    `\nSOAK: ${seconds} s of full-rate load (20 sessions, 4 KiB, connection reuse), relay mode to ${sink.kind} on 127.0.0.1:${sink.port}, audit on with one /audit reader; daemon otherwise on its defaults`,
  );
  let daemon: { child: ChildProcess; port: number; httpPort: number | undefined } | undefined;
  let reader: AuditReader | undefined;
  try {
    daemon = await startDaemon(spool, {
      SMTP_DELIVERY_MODE: 'relay',
      SMTP_RELAY_URL: `smtp://127.0.0.1:${sink.port}`,
      SMTP_DEBUG: 'true',
      SMTP_HEALTH_DISABLE: 'false',
      SMTP_HEALTH_ADDR: '127.0.0.1:0',
    });
    const { child, port, httpPort } = daemon;
    if (httpPort === undefined) throw new Error('the daemon did not report its HTTP port');
    let daemonExit: string | undefined;
    let stopping = false;
    child.once('exit', (code, signal) => {
      if (!stopping) daemonExit = `exited with code ${code} signal ${signal}`;
    });
    const pid = child.pid ?? 0;
    const audit = await openAuditReader(httpPort);
    reader = audit;
    const cpu0 = await cpuSeconds(pid);
    let accepted = 0;
    const samples: SoakPoint[] = [];
    let lastMetrics = '';
    console.log(
      '\nt s | phase | accepted | delivered (sink) | RSS MiB | heap used MiB | open fds | queue depth | audit events read',
    );
    console.log('---:|---|---:|---:|---:|---:|---:|---:|---:');
    const started = Date.now();
    let ticks = 0;
    const sample = async (phase: 'load' | 'drain', print = true): Promise<void> => {
      const s = await sampleDaemon(pid, httpPort);
      if (s.metrics) lastMetrics = s.metrics;
      const point: SoakPoint = {
        t: (Date.now() - started) / 1000,
        phase,
        accepted,
        delivered: sink.delivered(),
        rssMiB: s.rssMiB,
        heapUsedMiB: s.heapUsedMiB,
        fds: s.fds,
        queueDepth: s.queueDepth,
      };
      samples.push(point);
      if (print)
        console.log(
          `${f(point.t, 0)} | ${phase} | ${accepted} | ${point.delivered} | ${f(point.rssMiB)} | ${f(point.heapUsedMiB)} | ${f(point.fds, 0)} | ${f(point.queueDepth, 0)} | ${audit.events()}`,
        );
    };
    await sample('load'); // t = 0, before the load

    // the load, sampled every 2 s, printed every 10 s
    let loadError: unknown;
    const load = runLoad(port, {
      sessions: 20,
      durationMs: seconds * 1000,
      bytes: 4096,
      perConnection: 0,
      onAccepted: (n) => (accepted = n),
    }).catch((error: unknown) => {
      loadError = error;
      return undefined;
    });
    const finished = load.then(() => true);
    let nextSample = started + SAMPLE_MS;
    for (;;) {
      const ended = await Promise.race([finished, sleep(Math.max(0, nextSample - Date.now())).then(() => false)]);
      if (ended) break;
      await sample('load', ++ticks % PRINT_EVERY === 0);
      nextSample += SAMPLE_MS;
    }
    const result = await load;
    const loadEnded = Date.now();
    if (loadError !== undefined || result === undefined)
      console.log(
        `load failed after ${f((loadEnded - started) / 1000)} s with ${accepted} accepted: ${String(loadError)}${daemonExit ? `; daemon ${daemonExit}` : ''}`,
      );
    const loadSeconds = result?.seconds ?? (loadEnded - started) / 1000;
    await sample('load'); // the end of the load

    // the drain: until the sink has everything accepted, or 120 s
    let drainSeconds: number | undefined;
    while (daemonExit === undefined) {
      if (sink.delivered() >= accepted) {
        drainSeconds = (Date.now() - loadEnded) / 1000;
        break;
      }
      if (Date.now() - loadEnded > DRAIN_LIMIT_MS) break;
      await sleep(100);
      if (Date.now() >= nextSample) {
        await sample('drain', ++ticks % PRINT_EVERY === 0);
        nextSample += SAMPLE_MS;
      }
    }
    await sample('drain');
    const cpu = daemonExit === undefined ? (await cpuSeconds(pid)) - cpu0 : Number.NaN;
    const sinkCpu = sink.pid === undefined ? undefined : await cpuSeconds(sink.pid).catch(() => Number.NaN);
    // quarters on the samples' clock (t = 0 is the sample before the load)
    audit.close();
    stopping = true;
    const stopAt = Date.now();
    await stopDaemon(child);
    const stopSeconds = (Date.now() - stopAt) / 1000;
    const verdict = soakVerdict(samples, { loadSeconds: (loadEnded - started) / 1000, accepted, drainSeconds });
    return {
      sink: sink.kind,
      loadSeconds,
      accepted,
      delivered: sink.delivered(),
      drainSeconds,
      samples,
      verdict,
      auditEvents: audit.events(),
      auditDropped: metricValue(lastMetrics, 'gopherpost_audit_events_dropped_total'),
      daemonCpuSeconds: cpu,
      sinkCpuSeconds: sinkCpu,
      stopSeconds,
      sinkSessions: sink.sessions(),
      deliveries: Object.fromEntries(
        ['delivered', 'deferred', 'bounced'].map((r) => [
          r,
          labelledValue(lastMetrics, 'gopherpost_deliveries_total', 'result', r),
        ]),
      ),
      ...(audit.ended() === undefined ? {} : { auditEnded: audit.ended() }),
      ...(daemonExit === undefined ? {} : { daemonExit }),
    };
  } finally {
    reader?.close();
    if (daemon) await stopDaemon(daemon.child);
    await sink.close();
    await rm(spool, { recursive: true, force: true });
  }
}
