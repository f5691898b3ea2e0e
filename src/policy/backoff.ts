/** SMTP_RETRY_BASE_SECONDS and SMTP_RETRY_MAX_SECONDS. */
export interface BackoffConfig {
  readonly baseSeconds: number;
  readonly maxSeconds: number;
}

/** Largest extra fraction added as jitter: delays spread over +0–25 % (§4). */
export const MAX_JITTER = 0.25;

/**
 * Capped doubling with jitter, in whatever unit `base` and `max` use: the
 * wait after `attempt` failures is `base * 2^(attempt-1)` (attempt 1 waits
 * `base`), capped at `max`, then stretched by `random() * 25 %` so a backlog
 * does not wake all at once. `random` returns values in [0, 1) like
 * Math.random (out-of-range values are clamped). Attempts below 1 count as 1.
 * Shared by the long deferrals below and the quick in-attempt retries
 * (`quickRetryDelayMs`).
 */
export function jitteredBackoff(attempt: number, base: number, max: number, random: () => number): number {
  const exponent = Math.max(0, Math.floor(attempt) - 1);
  const capped = Math.min(base * 2 ** exponent, max);
  const jitter = Math.min(Math.max(random(), 0), 1) * MAX_JITTER;
  return capped * (1 + jitter);
}

/**
 * Wait before quick in-attempt retry `n` (next host, a dropped connection), in ms: `jitteredBackoff` rounded to whole
 * ms.
 */
export function quickRetryDelayMs(n: number, baseMs: number, maxMs: number, random: () => number): number {
  return Math.round(jitteredBackoff(n, baseMs, maxMs, random));
}

/**
 * Delay before the next delivery attempt after `attempt` failed attempts (`jitteredBackoff` in seconds), whole
 * milliseconds.
 */
export function retryDelayMs(attempt: number, cfg: BackoffConfig, random: () => number): number {
  return Math.round(jitteredBackoff(attempt, cfg.baseSeconds, cfg.maxSeconds, random) * 1000);
}

/** When the next attempt is due (ms since the epoch), given `now` and the failed attempts so far. */
export function nextAttemptAt(now: number, attempt: number, cfg: BackoffConfig, random: () => number): number {
  return now + retryDelayMs(attempt, cfg, random);
}
