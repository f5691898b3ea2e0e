/**
 * The SMTP session adapter: smtp-server's hooks in, our decisions out.
 *
 * Owns: one stream per hook and how each is answered.
 * In:   hook calls, through `hooks` (given to the SMTPServer options).
 * Out:  `run$`, the merged hook pipelines, which answer every call: connect,
 *       MAIL and RCPT from the session policy, AUTH through the throttled AUTH
 *       stage, DATA from the DATA receiver; close and session-ending update
 *       the session table. It never errors; its subscriber (the listener)
 *       ends it when the server has closed.
 */
import { ignoreElements, merge, tap } from 'rxjs';
import type { Observable } from 'rxjs';
import type { SMTPServerAddress, SMTPServerAuthentication, SMTPServerDataStream, SMTPServerSession } from 'smtp-server';
import { authRefused } from '../policy/auth-throttle.js';
import { commandArgs } from '../policy/dsn-params.js';
import { reject } from '../domain/reply.js';
import { throttledAuth, type AuthOutcome } from './auth-stage.js';
import type { DataReceiver } from './data-receiver.js';
import { answered$, answerFailure, hookStream, toError, type Answer, type HookCall } from './hooks.js';
import type { SessionHooks } from './server-options.js';
import type { SessionPolicy } from './session-policy.js';

type AuthCall = HookCall<{ readonly auth: SMTPServerAuthentication; readonly session: SMTPServerSession }>;

export interface SessionAdapterDeps {
  readonly policy: SessionPolicy;
  readonly receiver: DataReceiver;
  /** The credential check: the user name, or undefined when wrong. */
  readonly verify: (auth: SMTPServerAuthentication) => Promise<string | undefined>;
  readonly now: () => number;
  readonly warn: (message: string) => void;
}

const badCredentials = reject(535, '5.7.8', 'Authentication credentials invalid');

export class SessionAdapter {
  private readonly connect = hookStream<SMTPServerSession>();
  private readonly auth = hookStream<AuthCall['args']>();
  private readonly mailFrom = hookStream<{ address: SMTPServerAddress; session: SMTPServerSession }>();
  private readonly rcptTo = hookStream<{ address: SMTPServerAddress; session: SMTPServerSession }>();
  private readonly data = hookStream<{ stream: SMTPServerDataStream; session: SMTPServerSession }>();
  private readonly closed = hookStream<SMTPServerSession>();

  /** The handlers smtp-server calls (plain functions: they are spread into its options). */
  readonly hooks: SessionHooks = {
    onConnect: (session, cb) => this.connect.handler(session, cb),
    onAuth: (auth, session, cb) => this.auth.handler({ auth, session }, cb as Answer),
    onMailFrom: (address, session, cb) => this.mailFrom.handler({ address, session }, cb),
    onRcptTo: (address, session, cb) => this.rcptTo.handler({ address, session }, cb),
    onData: (stream, session, cb) => this.data.handler({ stream, session }, cb as Answer),
    onClose: (session) => this.closed.handler(session, () => undefined),
    onSessionEnding: (session) => this.closed.handler(session, () => undefined),
  };

  constructor(private readonly deps: SessionAdapterDeps) {}

  /** Every hook's pipeline, merged. */
  run$(): Observable<never> {
    const { policy, receiver, warn } = this.deps;
    return merge(
      answered$(this.connect.calls$, async (session) => toError(await policy.admit(session)), warn),
      this.auth$(),
      answered$(
        this.mailFrom.calls$,
        ({ address, session }) => toError(policy.mailFrom(address.address, session, commandArgs(address.args))),
        warn,
      ),
      answered$(
        this.rcptTo.calls$,
        ({ address, session }) => toError(policy.rcptTo(address.address, session, commandArgs(address.args))),
        warn,
      ),
      answered$(
        this.data.calls$,
        async ({ stream, session }) => ({ ok: await receiver.receive(stream, session) }),
        warn,
      ),
      this.closed.calls$.pipe(
        tap((call) => policy.closed(call.args)),
        ignoreElements(),
      ),
    );
  }

  /** AUTH calls through the throttled AUTH stage, each answered with its outcome. */
  private auth$(): Observable<never> {
    return this.auth.calls$.pipe(
      throttledAuth<AuthCall>({
        ipOf: (call) => call.args.session.remoteAddress,
        verify: (call) => this.deps.verify(call.args.auth),
        now: this.deps.now,
      }),
      tap(({ attempt, outcome }) => this.answerAuth(attempt, outcome)),
      ignoreElements(),
    );
  }

  private answerAuth(call: AuthCall, outcome: AuthOutcome): void {
    const { session } = call.args;
    switch (outcome.kind) {
      case 'accepted':
        call.answer(null, { user: outcome.user });
        return;
      case 'failed':
        call.answer(toError(this.deps.policy.rejected(session, 'auth', badCredentials)));
        return;
      case 'refused':
        call.answer(toError(this.deps.policy.rejected(session, 'auth', authRefused)));
        return;
      case 'error':
        answerFailure(call.answer, outcome.error, this.deps.warn);
    }
  }
}
