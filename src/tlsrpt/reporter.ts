/**
 * Sends the reports of days that are over (RFC 8460 §4): a day is due
 * after it ends plus a random delay (up to `maxDelayMs`, so reporters do
 * not all send at midnight); then each domain counted that day gets its
 * report at every URI of its `_smtp._tls` record. A domain without a
 * record (or with a bad one) gets none; one whose look-up or sending failed
 * is tried again at the next tick, for up to `giveUpMs`. What was sent is
 * written to the day file, so a restart does not send it twice; a day with
 * nothing left to send is removed.
 */
import type { DayStore } from './day-store.js';
import { buildReport, reportFileName, type ReportMeta } from './report.js';
import { lookupRua, sendReport, type SendDeps } from './send.js';
import { dayEnd, sessionsOf, utcDay, type DayTally, type DomainTally } from './tally.js';

export interface ReporterDeps {
  readonly store: DayStore;
  readonly send: SendDeps;
  readonly meta: ReportMeta;
  /** Which day it is. */
  readonly clock: () => number;
  readonly random: () => number;
  readonly maxDelayMs: number;
  readonly giveUpMs: number;
  readonly log: ReporterLog;
}

/** Where the reporter says what it did (the daemon's logger). */
export interface ReporterLog {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
}

export interface Reporter {
  /** Sends whatever is due now; resolves when done. A tick asked for while one runs is that one. */
  tick(): Promise<void>;
  /** Resolves when the tick running now (if any) is done. */
  idle(): Promise<void>;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Sends `domain`'s report where it has not gone yet; true when nothing is left to send. */
async function reportDomain(deps: ReporterDeps, day: string, domain: string, entry: DomainTally): Promise<boolean> {
  if (sessionsOf(entry) === 0) return true;
  const found = await lookupRua(deps.send.resolver, domain);
  if (found === undefined) return true;
  if (!found.ok) {
    deps.log.info({ domain, day, why: found.why }, 'no TLS report: the TLSRPT record is not valid');
    return true;
  }
  const report = buildReport(day, domain, entry, deps.meta);
  const ready = { domain, report, fileName: reportFileName(day, domain, deps.meta) };
  for (const rua of found.rua) {
    if (entry.sent.includes(rua.uri)) continue;
    try {
      await sendReport(deps.send, ready, rua);
      entry.sent.push(rua.uri);
      deps.store.changed(day);
      deps.log.info({ domain, day, rua: rua.uri, reportId: report['report-id'] }, 'TLS report sent');
    } catch (error) {
      deps.log.warn({ domain, day, rua: rua.uri, err: message(error) }, 'TLS report not sent; tried again later');
    }
  }
  return found.rua.every((rua) => entry.sent.includes(rua.uri));
}

async function reportDay(deps: ReporterDeps, tally: DayTally, due: number): Promise<void> {
  const late = deps.clock() > due + deps.giveUpMs;
  for (const [domain, entry] of Object.entries(tally.domains)) {
    const done = await reportDomain(deps, tally.day, domain, entry).catch((error: unknown) => {
      deps.log.warn({ domain, day: tally.day, err: message(error) }, 'TLSRPT look-up failed; tried again later');
      return false;
    });
    if (done || late) {
      if (!done) deps.log.warn({ domain, day: tally.day }, 'TLS report given up');
      delete tally.domains[domain];
      deps.store.changed(tally.day);
    }
  }
  if (Object.keys(tally.domains).length === 0) await deps.store.remove(tally.day);
}

export function createReporter(deps: ReporterDeps): Reporter {
  const delays = new Map<string, number>();
  let running: Promise<void> | undefined;
  const dueAt = (day: string): number => {
    let delay = delays.get(day);
    if (delay === undefined) {
      delay = Math.floor(deps.random() * deps.maxDelayMs);
      delays.set(day, delay);
    }
    return dayEnd(day) + delay;
  };
  const run = async (): Promise<void> => {
    const now = deps.clock();
    const today = utcDay(now);
    for (const tally of deps.store.days()) {
      if (tally.day >= today) continue;
      const due = dueAt(tally.day);
      if (now < due) continue;
      await reportDay(deps, tally, due);
      if (!deps.store.days().includes(tally)) delays.delete(tally.day);
    }
  };
  return {
    tick: () => {
      running ??= run()
        .catch((error: unknown) => deps.log.warn({ err: message(error) }, 'TLS reports: a pass failed'))
        .finally(() => {
          running = undefined;
        });
      return running;
    },
    idle: () => running ?? Promise.resolve(),
  };
}
