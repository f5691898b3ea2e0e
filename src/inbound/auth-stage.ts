/**
 * The AUTH stage: attempts through the failed-AUTH throttle (SPEC §3).
 *
 * Owns: when an AUTH attempt's password is checked, and what its results do
 *       to the next attempts.
 * In:   AUTH attempts (any value; `ipOf` names its client) and `verify`, the
 *       password check (a promise or Observable of the user name; undefined:
 *       wrong credentials).
 * Out:  one `{ attempt, outcome }` per attempt: accepted, failed (535),
 *       refused while the client is refused (454, no password checked), or
 *       error (the check itself failed: 451). Never errors.
 *
 * The throttle state is `throttleAuth` (policy/auth-throttle-stream.ts, the
 * `scan` its marble tests cover) folded over the results of the checked
 * attempts. Each attempt is gated by the state as it stands when the attempt
 * arrives (`withLatestFrom`): let through, held on a timer for the decided
 * delay, or refused. Its result is fed back into the fold before its outcome
 * goes on, so the next attempt sees it.
 */
import {
  catchError,
  concatMap,
  defer,
  finalize,
  map,
  mergeMap,
  of,
  startWith,
  Subject,
  tap,
  timer,
  withLatestFrom,
} from 'rxjs';
import type { Observable, ObservableInput, OperatorFunction } from 'rxjs';
import type { AuthUser } from '../config/types.js';
import { verifyPassword } from '../config/passwords.js';
import {
  authDecision,
  DEFAULT_THROTTLE,
  emptyThrottle,
  type AuthThrottleDecision,
  type ThrottleConfig,
} from '../policy/auth-throttle.js';
import { throttleAuth, type AuthResult } from '../policy/auth-throttle-stream.js';

export type AuthOutcome =
  | { readonly kind: 'accepted'; readonly user: string }
  | { readonly kind: 'failed' }
  | { readonly kind: 'refused' }
  | { readonly kind: 'error'; readonly error: unknown };

export interface ThrottledAuthOptions<T> {
  /** The client address of an attempt (the throttle's key). */
  readonly ipOf: (attempt: T) => string;
  /** The password check, started on subscribe: the user name, or undefined for wrong credentials. */
  readonly verify: (attempt: T) => ObservableInput<string | undefined>;
  /** Clock in ms (virtual in marble tests). */
  readonly now: () => number;
  readonly throttle?: ThrottleConfig;
}

export type AuthVerdictFor<T> = { readonly attempt: T; readonly outcome: AuthOutcome };

/** AUTH attempts in, one outcome per attempt out; see the file comment. */
export function throttledAuth<T>(options: ThrottledAuthOptions<T>): OperatorFunction<T, AuthVerdictFor<T>> {
  const cfg = options.throttle ?? DEFAULT_THROTTLE;
  return (attempts$) =>
    defer(() => {
      const results = new Subject<AuthResult>();
      const state$ = results.pipe(
        throttleAuth(cfg),
        map((verdict) => verdict.state),
        startWith(emptyThrottle),
      );
      return attempts$.pipe(
        withLatestFrom(state$),
        mergeMap(([attempt, state]) => {
          const decision = authDecision(state, options.ipOf(attempt), options.now(), cfg);
          return attemptOnce(attempt, decision, results, options);
        }),
        finalize(() => results.complete()),
      );
    });
}

/** One attempt: refused outright, or (after its delay) checked, its result fed back to `results`. */
function attemptOnce<T>(
  attempt: T,
  decision: AuthThrottleDecision,
  results: Subject<AuthResult>,
  options: ThrottledAuthOptions<T>,
): Observable<AuthVerdictFor<T>> {
  if (decision.kind === 'refuse') return of({ attempt, outcome: { kind: 'refused' } });
  const check$ = defer(() => options.verify(attempt)).pipe(
    tap((user) => results.next({ ip: options.ipOf(attempt), ok: user !== undefined, at: options.now() })),
    map((user): AuthVerdictFor<T> => ({
      attempt,
      outcome: user === undefined ? { kind: 'failed' } : { kind: 'accepted', user },
    })),
    catchError((error: unknown) => of<AuthVerdictFor<T>>({ attempt, outcome: { kind: 'error', error } })),
  );
  return decision.kind === 'delay' ? timer(decision.ms).pipe(concatMap(() => check$)) : check$;
}

/** The SMTP_AUTH_USERS check: the user name when the password matches, else undefined. */
export async function verifyCredentials(
  users: readonly AuthUser[],
  username: string | null | undefined,
  password: string | null | undefined,
): Promise<string | undefined> {
  const user = users.find((u) => u.user === (username ?? ''));
  const ok = user !== undefined && (await verifyPassword(user.secret, password ?? ''));
  return ok ? user.user : undefined;
}
