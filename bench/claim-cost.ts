/**
 * The cost of a claim, in process: opens a file spool the daemon left (the
 * daemon stopped), then times `claim(now, limit)` followed by `release` of
 * every message claimed. Nothing is delivered. Two series, one spool open:
 *
 *   same   released messages are due again at once, so every round claims
 *          the same earliest-due window again (200 rounds)
 *   fresh  released messages wait a day (in memory only: the index, not
 *          their recorded state), so every round claims messages not
 *          claimed before (up to 200 rounds, fewer when the spool runs out)
 *
 * The figure is µs per claimed message; the bar is that it does not
 * grow with the number of recipients waiting.
 */
import { openFileSpool, type FileSpool } from '../src/spool/file-spool.js';
import { round } from './sample.js';

export interface ClaimSeries {
  readonly rounds: number;
  readonly claimed: number;
  /** Mean µs per claimed message (claim plus release). */
  readonly usPerMessage: number;
  /** Mean ms per round (one claim of up to `limit` messages and their releases). */
  readonly msPerRound: number;
}

export interface ClaimCost {
  /** Seconds `openFileSpool` took (loading the due index). */
  readonly openSeconds: number;
  /** Recipients waiting, as the spool counts them. */
  readonly depth: number;
  readonly same: ClaimSeries;
  readonly fresh: ClaimSeries;
}

const WARM_UP_ROUNDS = 10;
const DAY_MS = 86_400_000;

async function series(spool: FileSpool, rounds: number, limit: number, fresh: boolean): Promise<ClaimSeries> {
  let claimed = 0;
  let done = 0;
  let ns = 0;
  while (done < rounds) {
    const started = process.hrtime.bigint();
    const now = Date.now();
    const batch = await spool.claim(now, limit);
    for (const { record } of batch) await spool.release(record.id, fresh ? now + DAY_MS : undefined);
    if (batch.length === 0) break; // nothing left to claim: not a round
    ns += Number(process.hrtime.bigint() - started);
    claimed += batch.length;
    done += 1;
  }
  return {
    rounds: done,
    claimed,
    usPerMessage: round(claimed > 0 ? ns / 1e3 / claimed : Number.NaN, 2),
    msPerRound: round(ns / 1e6 / Math.max(1, done), 3),
  };
}

export async function claimCost(path: string, rounds = 200, limit = 100): Promise<ClaimCost> {
  const opening = process.hrtime.bigint();
  const spool = await openFileSpool({ path });
  const openSeconds = Number(process.hrtime.bigint() - opening) / 1e9;
  try {
    const depth = await spool.depth();
    await series(spool, WARM_UP_ROUNDS, limit, false);
    const same = await series(spool, rounds, limit, false);
    const fresh = await series(spool, rounds, limit, true);
    return { openSeconds: round(openSeconds, 2), depth, same, fresh };
  } finally {
    await spool.close();
  }
}
