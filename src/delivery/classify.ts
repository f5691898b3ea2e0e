/**
 * Reply classification: what an SMTP reply or a client error means for a
 * recipient. Two data tables (replies by code and stage, client errors by
 * nodemailer error code) and pure functions over them; no sockets here.
 *
 * `scope` says how far the verdict reaches:
 * - `host`: this server (or the path to it) failed before giving a verdict on
 *   the message: try the next MX host / address (a quick retry). When no host
 *   is left, `kind` is the verdict (deferred unless every host said 5xx);
 * - `message`: the server answered for the whole transaction (MAIL FROM, DATA);
 * - `recipient`: the server answered for one recipient (RCPT TO).
 */
import type { DeliveryOutcome } from '../domain/delivery.js';

export type OutcomeKind = DeliveryOutcome['kind'];
export type SmtpStage = 'CONN' | 'EHLO' | 'STARTTLS' | 'AUTH' | 'MAIL' | 'RCPT' | 'DATA';
export type FailureScope = 'host' | 'message' | 'recipient';

export interface Classification {
  readonly kind: OutcomeKind;
  readonly scope: FailureScope;
  /** Text to keep as the recipient's last response (a server reply when there was one). */
  readonly response: string;
}

export interface ReplyRule {
  /** Exact codes, or a reply class digit (2, 4, 5). */
  readonly codes: readonly number[] | 2 | 4 | 5;
  /** Stages the rule applies to; all when absent. */
  readonly stages?: readonly SmtpStage[];
  readonly kind: OutcomeKind;
  /** Overrides the stage's default scope. */
  readonly scope?: FailureScope;
}

/** First match wins; each rule says why in a comment. */
export const REPLY_RULES: readonly ReplyRule[] = [
  {
    codes: [421],
    kind: 'deferred',
    scope: 'host',
    // service not available, closing channel: this host is busy, try the next MX
  },
  {
    codes: [452, 552],
    stages: ['RCPT'],
    kind: 'deferred',
    scope: 'recipient',
    // too many recipients / out of storage; RFC 5321 §4.5.3.1.10 says treat 552 at RCPT as 452:
    // the rest go next attempt
  },
  {
    codes: [530, 534, 535, 538],
    stages: ['EHLO', 'STARTTLS', 'AUTH', 'MAIL'],
    kind: 'deferred',
    scope: 'host',
    // authentication required/failed (5.7.0, 5.7.8): our credentials or TLS are wrong, not the mail; do not bounce it
  },
  // accepted
  { codes: 2, kind: 'delivered' },
  // transient failure: retry later with backoff
  { codes: 4, kind: 'deferred' },
  // permanent failure: bounce. 552 at MAIL or DATA lands here too: the message exceeds a fixed size limit (5.3.4),
  // retrying cannot help
  { codes: 5, kind: 'failed' },
];

/**
 * A stage's scope when no rule names one. Before the transaction (CONN, EHLO, STARTTLS, AUTH) a reply is the
 * host's: a 4xx tries the next MX, and a 5xx there (a 554 banner) fails only if every host says so (as Postfix).
 */
const STAGE_SCOPE: Readonly<Record<SmtpStage, FailureScope>> = {
  CONN: 'host',
  EHLO: 'host',
  STARTTLS: 'host',
  AUTH: 'host',
  MAIL: 'message',
  RCPT: 'recipient',
  DATA: 'message',
};

function ruleMatches(rule: ReplyRule, code: number, stage: SmtpStage): boolean {
  const codeMatches =
    typeof rule.codes === 'number' ? Math.floor(code / 100) === rule.codes : rule.codes.includes(code);
  return codeMatches && (rule.stages === undefined || rule.stages.includes(stage));
}

/** The kind and scope of a reply `code` received at `stage`. Codes outside 2xx–5xx count as deferred. */
export function classifyReply(code: number, stage: SmtpStage): { kind: OutcomeKind; scope: FailureScope } {
  const rule = REPLY_RULES.find((r) => ruleMatches(r, code, stage));
  if (!rule) return { kind: 'deferred', scope: 'host' };
  return { kind: rule.kind, scope: rule.scope ?? STAGE_SCOPE[stage] };
}

export interface ErrorRule {
  readonly kind: OutcomeKind;
  readonly scope: FailureScope;
  /** RFC 3463 enhanced status put before the error text when the server gave no reply. */
  readonly enhanced: string;
}

/** Client-side errors (no server reply to judge by), by nodemailer / node error code. */
export const ERROR_RULES: Readonly<Record<string, ErrorRule>> = {
  // could not connect / connection dropped
  ECONNECTION: { kind: 'deferred', scope: 'host', enhanced: '4.4.1' },
  // connection refused
  ECONNREFUSED: { kind: 'deferred', scope: 'host', enhanced: '4.4.1' },
  // connection reset
  ECONNRESET: { kind: 'deferred', scope: 'host', enhanced: '4.4.2' },
  // host unreachable
  EHOSTUNREACH: { kind: 'deferred', scope: 'host', enhanced: '4.4.1' },
  // network unreachable
  ENETUNREACH: { kind: 'deferred', scope: 'host', enhanced: '4.4.1' },
  // socket error
  ESOCKET: { kind: 'deferred', scope: 'host', enhanced: '4.4.2' },
  // connection, greeting or socket timeout
  ETIMEDOUT: { kind: 'deferred', scope: 'host', enhanced: '4.4.2' },
  // host name did not resolve
  EDNS: { kind: 'deferred', scope: 'host', enhanced: '4.4.3' },
  // TLS handshake or certificate check failed
  ETLS: { kind: 'deferred', scope: 'host', enhanced: '4.7.5' },
  // unexpected reply, protocol error
  EPROTOCOL: { kind: 'deferred', scope: 'host', enhanced: '4.5.0' },
  EAUTH: {
    kind: 'deferred',
    scope: 'host',
    enhanced: '4.7.8',
    // authentication to the relay failed: our configuration
  },
  // reading the stored message failed
  ESTREAM: { kind: 'deferred', scope: 'message', enhanced: '4.3.0' },
  // more recipients than one transaction takes
  ELIMITS: { kind: 'deferred', scope: 'message', enhanced: '4.5.3' },
  // larger than the SIZE the server announced
  EMESSAGE: { kind: 'failed', scope: 'message', enhanced: '5.3.4' },
  EREQUIRETLS: {
    kind: 'failed',
    scope: 'host',
    enhanced: '5.7.30',
    // REQUIRETLS message, server without REQUIRETLS (RFC 8689): try the next MX; failed if none offers it
  },
  EENVELOPE: {
    kind: 'failed',
    scope: 'message',
    enhanced: '5.1.3',
    // address the client refuses to send (bad syntax)
  },
};

const UNKNOWN_ERROR: ErrorRule = {
  kind: 'deferred',
  scope: 'message',
  enhanced: '4.0.0',
  // unexpected error: retry later rather than lose or bounce mail
};

/** The fields of a nodemailer SMTP error this module reads. */
export interface SmtpErrorLike {
  readonly code?: string;
  readonly response?: string;
  readonly responseCode?: number;
  readonly command?: string;
  readonly message?: string;
}

function field<T>(err: unknown, name: string, type: 'string' | 'number'): T | undefined {
  if (typeof err !== 'object' || err === null || !(name in err)) return undefined;
  const value = (err as Record<string, unknown>)[name];
  return typeof value === type ? (value as T) : undefined;
}

export function asSmtpError(err: unknown): SmtpErrorLike {
  return {
    code: field<string>(err, 'code', 'string'),
    response: field<string>(err, 'response', 'string'),
    responseCode: field<number>(err, 'responseCode', 'number'),
    command: field<string>(err, 'command', 'string'),
    message: err instanceof Error ? err.message : (field<string>(err, 'message', 'string') ?? String(err)),
  };
}

/** Maps nodemailer's `command` field ('MAIL FROM', 'RCPT TO', 'AUTH PLAIN', 'CONN', …) to a stage. */
export function stageOf(command: string | undefined): SmtpStage {
  const c = (command ?? '').toUpperCase();
  if (c.startsWith('MAIL')) return 'MAIL';
  if (c.startsWith('RCPT')) return 'RCPT';
  if (c.startsWith('DATA')) return 'DATA';
  if (c.startsWith('AUTH')) return 'AUTH';
  if (c.startsWith('STARTTLS')) return 'STARTTLS';
  if (c.startsWith('EHLO') || c.startsWith('HELO') || c.startsWith('LHLO')) return 'EHLO';
  return 'CONN';
}

/** Single-line form of a (possibly multi-line) server reply. */
export function oneLine(text: string): string {
  return text.replace(/\r?\n/g, ' ').replace(/\s+/g, ' ').trim();
}

/** Classifies an error from the SMTP client (or anything thrown during an attempt). */
export function classifyError(err: unknown): Classification {
  const e = asSmtpError(err);
  if (e.responseCode !== undefined && e.response !== undefined) {
    const { kind, scope } = classifyReply(e.responseCode, stageOf(e.command));
    return { kind, scope, response: oneLine(e.response) };
  }
  // nodemailer relabels socket errors 'ESOCKET'; the node errno in the text is more precise.
  const errno = /\b(ECONNREFUSED|ECONNRESET|EHOSTUNREACH|ENETUNREACH)\b/.exec(e.message ?? '')?.[1];
  const rule =
    (errno !== undefined ? ERROR_RULES[errno] : undefined) ??
    (e.code !== undefined ? ERROR_RULES[e.code] : undefined) ??
    UNKNOWN_ERROR;
  const text = oneLine(e.message ?? 'unknown error');
  return { kind: rule.kind, scope: rule.scope, response: `${rule.enhanced} ${text}` };
}

/** Quick-retry predicate: the failure was this host's, another host (or a redial) may do better. */
export function isHostFailure(err: unknown): boolean {
  return classifyError(err).scope === 'host';
}

export function toOutcome(c: Pick<Classification, 'kind' | 'response'>): DeliveryOutcome {
  return { kind: c.kind, response: c.response };
}
