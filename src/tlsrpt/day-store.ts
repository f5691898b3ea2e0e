/**
 * The durable TLS-RPT counts: one file per UTC day, `tlsrpt/<day>.json`
 * in SMTP_QUEUE_PATH, kept until that day's reports are sent. In memory
 * only the days on disk (today and days not yet reported). A change is
 * written at most every `flushMs` (a temporary file fsynced and renamed
 * over the old one) and on close, so a restart loses at most the last few
 * seconds of counts; a crash never leaves a half-written file.
 */
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeStateFile } from '../spool/state-file.js';
import { dayFromJson, dayToJson, emptyDay, type DayTally } from './tally.js';

export interface DayStore {
  /** The tally of `day`, made empty when there is none. */
  day(day: string): DayTally;
  /** Every day held, oldest first. */
  days(): readonly DayTally[];
  /** `day` changed: written within `flushMs`. */
  changed(day: string): void;
  /** `day` is done: forgotten, its file removed. */
  remove(day: string): Promise<void>;
  /** Writes every change so far. */
  flush(): Promise<void>;
  /** Flushes and stops the timer. */
  close(): Promise<void>;
}

export interface DayStoreOptions {
  readonly flushMs: number;
  /** A file that could not be read or written (the counts go on in memory). */
  readonly onError?: (message: string) => void;
}

const DAY_FILE = /^(\d{4}-\d{2}-\d{2})\.json$/;

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function load(dir: string, onError: (message: string) => void): Promise<Map<string, DayTally>> {
  const days = new Map<string, DayTally>();
  for (const name of (await readdir(dir)).sort()) {
    const day = DAY_FILE.exec(name)?.[1];
    if (day === undefined) continue;
    const text = await readFile(join(dir, name), 'utf8').catch((error: unknown) => {
      onError(`${join(dir, name)}: ${message(error)}`);
      return '';
    });
    const tally = dayFromJson(text);
    if (tally && tally.day === day) days.set(day, tally);
    else onError(`${join(dir, name)} is not a TLS-RPT day file; ignored`);
  }
  return days;
}

export async function openDayStore(dir: string, options: DayStoreOptions): Promise<DayStore> {
  const onError = options.onError ?? (() => undefined);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const days = await load(dir, onError);
  const dirty = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  let writing = Promise.resolve();

  const flush = (): Promise<void> => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    const due = [...dirty];
    dirty.clear();
    writing = writing.then(async () => {
      for (const day of due) {
        const tally = days.get(day);
        if (!tally) continue; // removed meanwhile
        const path = join(dir, `${day}.json`);
        await writeStateFile(path, dayToJson(tally)).catch((error: unknown) => onError(`${path}: ${message(error)}`));
      }
    });
    return writing;
  };

  return {
    day: (day) => {
      let tally = days.get(day);
      if (!tally) {
        tally = emptyDay(day);
        days.set(day, tally);
      }
      return tally;
    },
    days: () => [...days.values()].sort((a, b) => a.day.localeCompare(b.day)),
    changed: (day) => {
      dirty.add(day);
      if (!timer) {
        timer = setTimeout(() => void flush(), options.flushMs);
        timer.unref();
      }
    },
    remove: async (day) => {
      days.delete(day);
      dirty.delete(day);
      await writing;
      await rm(join(dir, `${day}.json`), { force: true }).catch((error: unknown) => onError(message(error)));
    },
    flush,
    close: flush,
  };
}
