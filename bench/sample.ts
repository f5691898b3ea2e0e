/**
 * Sampling a running daemon from the outside, for the long benchmarks (SOAK,
 * QSCALE): resident memory and its peak from /proc/PID/status, open file
 * descriptors from /proc/PID/fd, and gauges from its Prometheus `/metrics`
 * (V8 heap used, queue depth). A sample never throws: what could not be read
 * is NaN, so a daemon that died shows up as a row of NaNs and an exit code.
 */
import { readdir, readFile } from 'node:fs/promises';

/** The metrics the benchmarks read (prom-client's default heap gauge, the daemon's queue gauge). */
export const HEAP_USED_METRIC = 'nodejs_heap_size_used_bytes';
export const QUEUE_DEPTH_METRIC = 'gopherpost_queue_depth';

const MIB = 2 ** 20;

export interface MemorySample {
  /** VmRSS, MiB. */
  readonly rssMiB: number;
  /** VmHWM (peak RSS since start or the last reset), MiB. */
  readonly hwmMiB: number;
}

export interface DaemonSample extends MemorySample {
  readonly heapUsedMiB: number;
  readonly fds: number;
  readonly queueDepth: number;
}

/** VmRSS and VmHWM of `pid`. */
export async function memory(pid: number): Promise<MemorySample> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const kb = (field: string): number => {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
    return m ? Number(m[1]) / 1024 : Number.NaN;
  };
  return { rssMiB: kb('VmRSS'), hwmMiB: kb('VmHWM') };
}

/** Open file descriptors of `pid` (entries of /proc/PID/fd). */
export async function openFds(pid: number): Promise<number> {
  return readdir(`/proc/${pid}/fd`).then(
    (entries) => entries.length,
    () => Number.NaN,
  );
}

/** The `/metrics` text of the daemon's HTTP server ('' when it does not answer). */
export async function scrape(httpPort: number): Promise<string> {
  return fetch(`http://127.0.0.1:${httpPort}/metrics`).then(
    (r) => (r.ok ? r.text() : ''),
    () => '',
  );
}

/** The value of an unlabelled series `name` in a Prometheus text exposition (NaN if absent). */
export function metricValue(text: string, name: string): number {
  const m = new RegExp(`^${name} ([0-9.eE+-]+|NaN)$`, 'm').exec(text);
  return m ? Number(m[1]) : Number.NaN;
}

/** The sum of a labelled series `name{label="value"}` (NaN if absent). */
export function labelledValue(text: string, name: string, label: string, value: string): number {
  const m = new RegExp(`^${name}\\{[^}]*${label}="${value}"[^}]*\\} ([0-9.eE+-]+)$`, 'm').exec(text);
  return m ? Number(m[1]) : Number.NaN;
}

/** RSS, peak RSS, heap used, open fds and queue depth of the daemon `pid` serving HTTP on `httpPort`. */
export async function sampleDaemon(
  pid: number,
  httpPort: number,
): Promise<DaemonSample & { readonly metrics: string }> {
  const [mem, fds, metrics] = await Promise.all([memory(pid), openFds(pid), scrape(httpPort)]);
  return {
    ...mem,
    fds,
    heapUsedMiB: metricValue(metrics, HEAP_USED_METRIC) / MIB,
    queueDepth: metricValue(metrics, QUEUE_DEPTH_METRIC),
    metrics,
  };
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** `n` rounded to `digits` decimals. */
export function round(n: number, digits = 1): number {
  return Math.round(n * 10 ** digits) / 10 ** digits;
}
