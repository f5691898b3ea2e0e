import { Subject, type Observable } from 'rxjs';

/** One call of an smtp-server hook: its arguments and the callback that answers it. */
export interface HookCall<A> {
  readonly args: A;
  readonly answer: (error?: Error | null, result?: unknown) => void;
}

/**
 * Turns a callback-style smtp-server hook into a stream of calls. The returned
 * `handler` goes into the SMTPServer options; `calls$` is what a pipeline
 * subscribes to (each call must eventually be answered).
 */
export function hookStream<A>(): { handler: (args: A, answer: HookCall<A>['answer']) => void; calls$: Observable<HookCall<A>> } {
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
