/**
 * Fills a spool through SMTP: the built daemon in hold mode (store only,
 * every recipient stays waiting), HTTP on, the Node load generator with 20
 * sessions sending `messages` messages of `perMessage` recipients of one
 * destination domain. Samples the daemon's RSS and peak RSS (VmHWM) every
 * 2 s, prints a progress line every `printEverySeconds`, and stops the
 * daemon (SIGTERM) once the queue depth has been read.
 */
import { cpuSeconds, startDaemon, stopDaemon } from './daemon-process.js';
import { memory, metricValue, QUEUE_DEPTH_METRIC, round, scrape } from './sample.js';
import { runLoad } from './smtp-load.js';

export interface HeldLoad {
  readonly messages: number;
  readonly recipients: number;
  readonly seconds: number;
  /** Peak RSS (VmHWM) of the daemon from its start to the end of the load, MiB. */
  readonly peakRssMiB: number;
  /** Largest RSS among the 2 s samples, MiB. */
  readonly maxSampledRssMiB: number;
  /** RSS at the end of the load, MiB. */
  readonly endRssMiB: number;
  /** Queue depth (`/metrics`) after the load. */
  readonly depth: number;
  readonly cpuSeconds: number;
  /** Seconds from SIGTERM to exit. */
  readonly stopSeconds: number;
}

const SAMPLE_MS = 2000;

export async function loadHeld(
  spool: string,
  opts: { recipients: number; perMessage: number; bytes: number; domain: string; printEverySeconds?: number },
): Promise<HeldLoad> {
  const messages = Math.ceil(opts.recipients / opts.perMessage);
  const rcpts = (n: number): string[] => {
    const first = n * opts.perMessage;
    const count = Math.min(opts.perMessage, opts.recipients - first);
    return Array.from({ length: count }, (_, i) => `r${first + i}@${opts.domain}`);
  };
  const { child, port, httpPort } = await startDaemon(spool, {
    SMTP_DELIVERY_MODE: 'hold',
    SMTP_HEALTH_DISABLE: 'false',
    SMTP_HEALTH_ADDR: '127.0.0.1:0',
  });
  let stopped = false;
  try {
    const pid = child.pid ?? 0;
    let accepted = 0;
    let maxRss = 0;
    const started = Date.now();
    const print = opts.printEverySeconds;
    let nextPrint = print === undefined ? Number.POSITIVE_INFINITY : started + print * 1000;
    if (print !== undefined) {
      console.log('\nt s | messages accepted | recipients | recipients/s so far | RSS MiB | peak RSS MiB');
      console.log('---:|---:|---:|---:|---:|---:');
    }
    const sampler = setInterval(() => {
      void memory(pid).then((m) => {
        if (Number.isFinite(m.rssMiB)) maxRss = Math.max(maxRss, m.rssMiB);
        if (Date.now() < nextPrint) return;
        nextPrint += (print ?? 0) * 1000;
        const t = (Date.now() - started) / 1000;
        const sent = Math.min(accepted * opts.perMessage, opts.recipients);
        console.log(
          `${round(t, 0)} | ${accepted} | ${sent} | ${round(sent / t)} | ${round(m.rssMiB)} | ${round(m.hwmMiB)}`,
        );
      });
    }, SAMPLE_MS);
    const cpu0 = await cpuSeconds(pid);
    try {
      await runLoad(port, {
        sessions: 20,
        total: messages,
        bytes: opts.bytes,
        perConnection: 0,
        recipients: rcpts,
        onAccepted: (n) => (accepted = n),
      });
    } finally {
      clearInterval(sampler);
    }
    const seconds = (Date.now() - started) / 1000;
    const cpu = (await cpuSeconds(pid)) - cpu0;
    const end = await memory(pid);
    maxRss = Math.max(maxRss, end.rssMiB);
    const depth = httpPort === undefined ? Number.NaN : metricValue(await scrape(httpPort), QUEUE_DEPTH_METRIC);
    const stopping = Date.now();
    stopped = true;
    await stopDaemon(child);
    return {
      messages,
      recipients: opts.recipients,
      seconds,
      peakRssMiB: end.hwmMiB,
      maxSampledRssMiB: maxRss,
      endRssMiB: end.rssMiB,
      depth,
      cpuSeconds: cpu,
      stopSeconds: (Date.now() - stopping) / 1000,
    };
  } finally {
    if (!stopped) await stopDaemon(child);
  }
}
