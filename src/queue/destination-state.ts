/**
 * One destination's delivery policy as pure functions (Postfix's scheduler
 * feedback): how many attempts may run at once, whether it is dead, and when
 * its rate limit lets the next one start.
 *
 * - The concurrency window starts at `initial` (5), grows by 1/window for
 *   every attempt the destination answered (so by one after a window's worth)
 *   up to `max` (SMTP_DOMAIN_CONCURRENCY), and shrinks by 1/window (never
 *   below 1) for every attempt where no host gave a verdict: refused, dropped
 *   or timed-out connections, 421s.
 * - A whole window's worth of such failures in a row (a failed cohort) marks
 *   the destination dead for `deadMs`: its waiting mail is deferred without
 *   dialling. It comes back with a window of one (a probe).
 * - A rate limit spaces starts `interval` ms apart.
 */
export interface DestinationLimits {
  readonly initial: number;
  readonly max: number;
  /** How long a destination stays dead. */
  readonly deadMs: number;
}

export interface DestinationState {
  /** The concurrency window (fractional: it moves by 1/window). */
  readonly window: number;
  readonly running: number;
  /** Failures in a row since the last answered attempt. */
  readonly failures: number;
  /** Dead until then (ms); 0 when alive. */
  readonly deadUntil: number;
  /** What the last failure said (the reason given to mail deferred while dead). */
  readonly reason: string;
  /** Rate limit: the earliest time the next attempt may start. */
  readonly nextStartAt: number;
}

/** What an attempt told about the destination. */
export type Feedback =
  { readonly kind: 'answered' } | { readonly kind: 'failed'; readonly reason: string } | { readonly kind: 'none' };

export function initialState(limits: DestinationLimits): DestinationState {
  return {
    window: Math.min(limits.initial, limits.max),
    running: 0,
    failures: 0,
    deadUntil: 0,
    reason: '',
    nextStartAt: 0,
  };
}

export function isDead(s: DestinationState, now: number): boolean {
  return now < s.deadUntil;
}

/** May another attempt start now? */
export function canStart(s: DestinationState, now: number): boolean {
  return !isDead(s, now) && s.running < Math.floor(s.window) && now >= s.nextStartAt;
}

/** When a destination that cannot start now might (undefined: only when an attempt finishes). */
export function startableAt(s: DestinationState, now: number): number | undefined {
  if (isDead(s, now)) return s.deadUntil;
  if (s.running >= Math.floor(s.window)) return undefined;
  return s.nextStartAt > now ? s.nextStartAt : undefined;
}

/** An attempt starts; with a rate limit the next may start `interval` ms later. */
export function started(s: DestinationState, now: number, interval = 0): DestinationState {
  const revived = s.deadUntil !== 0 && now >= s.deadUntil ? { deadUntil: 0, window: 1 } : {};
  return {
    ...s,
    ...revived,
    running: s.running + 1,
    nextStartAt: interval > 0 ? Math.max(s.nextStartAt, now) + interval : s.nextStartAt,
  };
}

/** An attempt finished with `feedback`. */
export function finished(
  s: DestinationState,
  feedback: Feedback,
  now: number,
  limits: DestinationLimits,
): DestinationState {
  const running = Math.max(0, s.running - 1);
  switch (feedback.kind) {
    case 'answered':
      return { ...s, running, failures: 0, window: Math.min(limits.max, s.window + 1 / s.window) };
    case 'none':
      return { ...s, running };
    case 'failed': {
      const failures = s.failures + 1;
      const window = Math.max(1, s.window - 1 / s.window);
      if (failures >= Math.ceil(window) && !isDead(s, now)) {
        return { ...s, running, failures: 0, window: 1, deadUntil: now + limits.deadMs, reason: feedback.reason };
      }
      return { ...s, running, failures, window, reason: feedback.reason };
    }
  }
}

/** Is this state worth keeping when nothing runs or waits? (A fresh one is made again when needed.) */
export function isIdle(s: DestinationState, limits: DestinationLimits, now: number): boolean {
  return (
    s.running === 0 &&
    !isDead(s, now) &&
    s.failures === 0 &&
    s.window >= Math.min(limits.initial, limits.max) &&
    s.nextStartAt <= now
  );
}

/** A rate limit as the spacing between starts: `n` per `perMs`. */
export function intervalOf(rate: { readonly count: number; readonly perMs: number } | undefined): number {
  return rate ? rate.perMs / rate.count : 0;
}
