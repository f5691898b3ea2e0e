/**
 * Gauges read from the spool at scrape time: the age of the oldest waiting
 * recipient and whether the spool takes writes (what an alert fires on).
 *
 * In: the spool's `oldestWaitingAt` (an index lookup, cheap with a million
 * recipients waiting) and `check` (the readiness probe's write test). Out:
 * `gopherpost_queue_oldest_age_seconds` and `gopherpost_spool_writable`.
 */
import { Gauge, type Registry } from 'prom-client';

export interface SpoolGaugeSources {
  /** When the oldest waiting message arrived (ms), undefined when none waits. Errors leave the last value. */
  readonly oldestWaitingAt?: () => number | undefined | Promise<number | undefined>;
  /** Resolves when the spool takes writes, rejects when not (the readiness check). */
  readonly spoolCheck?: () => Promise<void>;
  /** How long a scrape waits for `spoolCheck` before counting the spool as not writable. Default 2 s. */
  readonly spoolCheckTimeoutMs?: number;
}

export function spoolInstruments(registers: Registry[], sources: SpoolGaugeSources, now: () => number) {
  const { oldestWaitingAt, spoolCheck } = sources;
  const timeoutMs = sources.spoolCheckTimeoutMs ?? 2000;
  return {
    queueOldestAge: new Gauge({
      name: 'gopherpost_queue_oldest_age_seconds',
      help: 'Seconds since the oldest waiting (queued or deferred) recipient was received; 0 when none waits.',
      registers,
      async collect() {
        if (!oldestWaitingAt) return;
        try {
          const at = await oldestWaitingAt();
          this.set(at === undefined ? 0 : Math.max(0, now() - at) / 1000);
        } catch {
          // Keep the last value: a slow or failing spool must not break a scrape.
        }
      },
    }),
    spoolWritable: new Gauge({
      name: 'gopherpost_spool_writable',
      help: 'Whether the spool takes writes (file: a test file is written; Redis: it answers): 1 yes, 0 no.',
      registers,
      async collect() {
        if (spoolCheck) this.set((await settlesWithin(spoolCheck(), timeoutMs)) ? 1 : 0);
      },
    }),
  };
}

/** True when `work` resolves within `ms`; false when it rejects or takes longer. */
async function settlesWithin(work: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
    timer.unref();
  });
  try {
    return await Promise.race([work.then(() => true), late]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}
