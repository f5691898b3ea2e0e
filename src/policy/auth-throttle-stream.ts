import { map, pipe, scan } from 'rxjs';
import type { OperatorFunction } from 'rxjs';
import {
  DEFAULT_THROTTLE,
  authDecision,
  emptyThrottle,
  pruneThrottle,
  recordAuthFailure,
  recordAuthSuccess,
} from './auth-throttle.js';
import type { AuthThrottleDecision, ThrottleConfig, ThrottleState } from './auth-throttle.js';

/** One finished AUTH attempt. `at` is ms (the caller's clock, virtual in marble tests). */
export interface AuthResult {
  readonly ip: string;
  readonly ok: boolean;
  readonly at: number;
}

/** After each result: the decision for that client's next attempt, and the whole state. */
export interface AuthVerdict {
  readonly ip: string;
  readonly at: number;
  readonly next: AuthThrottleDecision;
  readonly state: ThrottleState;
}

interface Acc {
  readonly state: ThrottleState;
  readonly prunedAt: number;
}

/**
 * Folds AUTH results through the pure throttle state machine with `scan`.
 * Expired records are pruned at most once per window, so state stays bounded
 * without a timer. Lives in policy/, not rx/: it is the throttle policy's own
 * fold, not a general operator. The daemon runs it inside the inbound AUTH
 * stage (`throttledAuth` in src/inbound/auth-stage.ts), whose gate reads the
 * state it emits.
 */
export function throttleAuth(
  cfg: ThrottleConfig = DEFAULT_THROTTLE,
  initial: ThrottleState = emptyThrottle,
): OperatorFunction<AuthResult, AuthVerdict> {
  return pipe(
    scan<AuthResult, Acc & { readonly verdict: AuthVerdict }, Acc>(
      (acc, result) => {
        const due = result.at - acc.prunedAt >= cfg.windowMs;
        const base = due ? pruneThrottle(acc.state, result.at, cfg) : acc.state;
        const state = result.ok
          ? recordAuthSuccess(base, result.ip)
          : recordAuthFailure(base, result.ip, result.at, cfg);
        const next = authDecision(state, result.ip, result.at, cfg);
        return {
          state,
          prunedAt: due ? result.at : acc.prunedAt,
          verdict: { ip: result.ip, at: result.at, next, state },
        };
      },
      { state: initial, prunedAt: -Infinity },
    ),
    map((acc) => acc.verdict),
  );
}
