/**
 * smtp-server's callback hooks as streams, and their answers.
 *
 * Owns: the shape of a hook call and how a piece of work answers it.
 * In:   hook calls (`hookStream().handler` goes into the SMTPServer options).
 * Out:  `calls$` per hook; `answered$` runs the work of each call and answers
 *       it (an accept, a reply Error, or a value such as the AUTH user);
 *       errors become 451 (552 for size, 550 for a lone CR or LF) and never
 *       end the stream.
 */
import { EMPTY, mergeMap, Observable, Subject } from 'rxjs';
import type { Decision } from '../domain/reply.js';
import { BareNewlineError } from '../mail/line-endings.js';
import { SpoolError } from '../spool/spool.js';
import { SizeLimitError } from './message-stream.js';

/** One call of an smtp-server hook: its arguments and the callback that answers it. */
export interface HookCall<A> {
  readonly args: A;
  readonly answer: (error?: Error | null, result?: unknown) => void;
}

export type Answer = HookCall<unknown>['answer'];

/**
 * Turns a callback-style smtp-server hook into a stream of calls. The returned
 * `handler` goes into the SMTPServer options; `calls$` is what a pipeline
 * subscribes to (each call must eventually be answered).
 */
export function hookStream<A>(): { handler: (args: A, answer: Answer) => void; calls$: Observable<HookCall<A>> } {
  const subject = new Subject<HookCall<A>>();
  return {
    handler: (args, answer) => subject.next({ args, answer }),
    calls$: subject.asObservable(),
  };
}

/** An Error carrying an SMTP reply code, as smtp-server expects from hooks. */
export function smtpError(code: number, enhanced: string, text: string): Error & { responseCode: number } {
  const error = new Error(`${enhanced} ${text}`) as Error & { responseCode: number };
  error.responseCode = code;
  return error;
}

/** A decision as a hook answer: null to accept, a reply Error to reject. */
export function toError(decision: Decision): Error | null {
  return decision.kind === 'accept' ? null : smtpError(decision.code, decision.enhanced, decision.text);
}

/** What a hook's work ends in: an Error (reply), null (accept) or a value to hand back. */
export type Outcome = Error | null | { readonly ok: unknown };

/**
 * Each hook call is worked out and answered. A decision made synchronously
 * (MAIL, RCPT) is answered in the same turn; one that waits (connect, DATA) is
 * answered when its promise settles. Errors never escape: the client gets a
 * 451 (or 552 for size), `warn` hears of anything but a size overrun, and the
 * pipeline keeps running.
 */
export function answered$<A>(
  calls$: Observable<HookCall<A>>,
  work: (args: A) => Outcome | Promise<Outcome>,
  warn: (message: string) => void,
): Observable<never> {
  return calls$.pipe(
    mergeMap((call) => {
      const settle = (result: Outcome): void =>
        result instanceof Error || result === null ? call.answer(result) : call.answer(null, result.ok);
      const fail = (error: unknown): void => answerFailure(call.answer, error, warn);
      let result: Outcome | Promise<Outcome>;
      try {
        result = work(call.args);
      } catch (error) {
        fail(error);
        return EMPTY;
      }
      if (!(result instanceof Promise)) {
        settle(result);
        return EMPTY;
      }
      return settled$(result, settle, fail);
    }),
  );
}

/** Answers a call whose work failed: 552 for size, 550 for a lone CR or LF, 451 otherwise (logged). */
export function answerFailure(answer: Answer, error: unknown, warn: (message: string) => void): void {
  if (!(error instanceof SizeLimitError || error instanceof BareNewlineError))
    warn(`could not serve a client request: ${describe(error)}`);
  answer(failureReply(error));
}

/**
 * Completes once `promise` settles and its value went to `onValue`; a rejection
 * or a throwing `onValue` goes to `onError` (what `from(p).pipe(map, catchError,
 * ignoreElements)` does, without the objects those make per call, a measurable
 * share of a DATA command's garbage).
 */
function settled$<T>(
  promise: Promise<T>,
  onValue: (value: T) => void,
  onError: (error: unknown) => void,
): Observable<never> {
  return new Observable<never>((subscriber) => {
    promise
      .then(onValue)
      .catch(onError)
      .then(
        () => subscriber.complete(),
        (error: unknown) => subscriber.error(error),
      );
  });
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? ` (${error.cause.message})` : '';
  return `${error.message}${cause}`;
}

function failureReply(error: unknown): Error {
  if (error instanceof SizeLimitError)
    return smtpError(552, '5.3.4', 'Message size exceeds fixed maximum message size');
  // RFC 5321 §4.3.2: 550 is the policy refusal after DATA; X.6.0 (RFC 3463) a content problem
  if (error instanceof BareNewlineError)
    return smtpError(550, '5.6.0', 'Message refused: a line ends in a bare CR or LF, not CRLF (RFC 5321 2.3.8)');
  if (error instanceof SpoolError) return smtpError(451, '4.3.0', 'Could not store the message, try again later');
  return smtpError(451, '4.3.0', 'Local error in processing, try again later');
}
