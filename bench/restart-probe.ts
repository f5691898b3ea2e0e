/**
 * Restart timing on a loaded spool: spawns the built daemon (hold mode,
 * HTTP on a port chosen up front so it can be polled from the first
 * moment) and polls every 100 ms from spawn until `GET /readyz` answers 200
 * and until the queue depth reaches `expected` (from `/metrics`, or
 * `GET /api/queue?limit=1` when the gauge is missing). Peak RSS (VmHWM) is
 * read once the depth is reached and again 10 s later; then SIGTERM.
 */
import { spawnDaemon, stopDaemon } from './daemon-process.js';
import { freePort } from '../test/helpers/ports.js';
import { memory, metricValue, QUEUE_DEPTH_METRIC, round, scrape, sleep } from './sample.js';

export interface RestartFigures {
  /** Seconds from spawn to the "GopherPost listening" log line. */
  readonly listeningSeconds: number | undefined;
  /** Seconds from spawn to the first 200 from /readyz. */
  readonly readySeconds: number | undefined;
  /** Seconds from spawn until the queue depth was `expected` or more. */
  readonly depthSeconds: number | undefined;
  /** The last depth read. */
  readonly depth: number;
  /** Where the depth came from. */
  readonly depthSource: 'metrics' | 'api';
  /** VmHWM when the depth was reached, and 10 s after, MiB. */
  readonly peakRssAtDepthMiB: number;
  readonly peakRssMiB: number;
  readonly rssMiB: number;
}

const POLL_MS = 100;
const SETTLE_MS = 10_000;

async function status(url: string): Promise<number | undefined> {
  return fetch(url).then(
    async (r) => {
      await r.arrayBuffer();
      return r.status;
    },
    () => undefined,
  );
}

async function apiDepth(httpPort: number): Promise<number> {
  return fetch(`http://127.0.0.1:${httpPort}/api/queue?limit=1`).then(
    async (r) => ((await r.json()) as { depth?: number }).depth ?? Number.NaN,
    () => Number.NaN,
  );
}

export async function probeRestart(spool: string, expected: number, timeoutMs = 600_000): Promise<RestartFigures> {
  const httpPort = await freePort();
  const spawned = process.hrtime.bigint();
  const since = (): number => Number(process.hrtime.bigint() - spawned) / 1e9;
  const { child, listening } = spawnDaemon(spool, {
    SMTP_DELIVERY_MODE: 'hold',
    SMTP_HEALTH_DISABLE: 'false',
    SMTP_HEALTH_ADDR: `127.0.0.1:${httpPort}`,
  });
  let listeningSeconds: number | undefined;
  let exit: string | undefined;
  void listening.then(
    () => (listeningSeconds = since()),
    () => undefined, // the exit below says why
  );
  child.once('exit', (code, signal) => (exit = `exited with code ${code} signal ${signal}`));
  try {
    const pid = child.pid ?? 0;
    let readySeconds: number | undefined;
    let depthSeconds: number | undefined;
    let depth = Number.NaN;
    let depthSource: 'metrics' | 'api' = 'metrics';
    let nextLine = 5;
    while (depthSeconds === undefined || readySeconds === undefined) {
      if (exit !== undefined) throw new Error(`the daemon died during the restart: ${exit}`);
      if (since() * 1000 > timeoutMs) break;
      if (readySeconds === undefined && (await status(`http://127.0.0.1:${httpPort}/readyz`)) === 200)
        readySeconds = since();
      if (depthSeconds === undefined) {
        const text = await scrape(httpPort);
        if (text) {
          depth = metricValue(text, QUEUE_DEPTH_METRIC);
          if (Number.isNaN(depth)) {
            depthSource = 'api';
            depth = await apiDepth(httpPort);
          }
        }
        if (depth >= expected) depthSeconds = since();
      }
      if (since() >= nextLine) {
        const m = await memory(pid);
        console.log(
          `  restart +${round(since(), 1)} s: listening ${listeningSeconds === undefined ? 'no' : 'yes'}, ready ${readySeconds === undefined ? 'no' : 'yes'}, depth ${depth}, RSS ${round(m.rssMiB)} MiB, peak ${round(m.hwmMiB)} MiB`,
        );
        nextLine += 5;
      }
      await sleep(POLL_MS);
    }
    const atDepth = await memory(pid);
    await sleep(SETTLE_MS);
    const after = await memory(pid);
    return {
      listeningSeconds,
      readySeconds,
      depthSeconds,
      depth,
      depthSource,
      peakRssAtDepthMiB: atDepth.hwmMiB,
      peakRssMiB: after.hwmMiB,
      rssMiB: after.rssMiB,
    };
  } finally {
    await stopDaemon(child);
  }
}
