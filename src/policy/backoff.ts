/** SMTP_RETRY_BASE_SECONDS and SMTP_RETRY_MAX_SECONDS. */
export interface BackoffConfig {
  readonly baseSeconds: number;
  readonly maxSeconds: number;
}

/** Largest extra fraction added as jitter: delays spread over +0–25 % (§4). */
export const MAX_JITTER = 0.25;

/**
 * Delay before the next delivery attempt after `attempt` failed attempts:
 * `base * 2^(attempt-1)` seconds (attempt 1 waits `base`), capped at `max`,
 * then stretched by `random() * 25 %` so a backlog does not wake all at once.
 * `random` returns values in [0, 1) like Math.random (out-of-range values are
 * clamped). Attempts below 1 count as 1. Whole milliseconds.
 */
export function retryDelayMs(attempt: number, cfg: BackoffConfig, random: () => number): number {
  const exponent = Math.max(0, Math.floor(attempt) - 1);
  const seconds = Math.min(cfg.baseSeconds * 2 ** exponent, cfg.maxSeconds);
  const jitter = Math.min(Math.max(random(), 0), 1) * MAX_JITTER;
  return Math.round(seconds * 1000 * (1 + jitter));
}

/** When the next attempt is due (ms since the epoch), given `now` and the failed attempts so far. */
export function nextAttemptAt(now: number, attempt: number, cfg: BackoffConfig, random: () => number): number {
  return now + retryDelayMs(attempt, cfg, random);
}
