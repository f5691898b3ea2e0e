/**
 * DSN parameters (RFC 3461) of MAIL FROM and RCPT TO, checked and turned
 * into what the envelope keeps. Pure: the values come xtext-decoded, as
 * smtp-server hands them over (it already refuses a parameter given twice
 * and decoded control characters). Anything malformed is `501 5.5.4` with a
 * text that names the parameter and what it must be.
 */
import type { EnvelopeDsn, NotifyKeyword, RecipientDsn } from '../domain/dsn.js';
import type { Decision } from '../domain/reply.js';

/** A command's parameters: `KEY=value` as a string, a bare `KEY` as `true`. */
export type CommandArgs = Readonly<Record<string, string | boolean | undefined>>;

/** MAIL FROM's DSN parameters as the envelope keeps them. */
export interface MailDsn {
  readonly ret?: 'FULL' | 'HDRS';
  readonly envid?: string;
}

export type Checked<T> = { readonly kind: 'accept'; readonly value: T } | Extract<Decision, { kind: 'reject' }>;

/** RFC 3461 §4.4: an ENVID is at most 100 characters. */
export const MAX_ENVID = 100;
/** RFC 3461 §4.2: an ORCPT is at most 500 characters. */
export const MAX_ORCPT = 500;

const PRINTABLE_ASCII = /^[\x20-\x7e]+$/;
const ADDR_TYPE = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+$/;
const NOTIFY_KEYWORDS: ReadonlySet<string> = new Set<NotifyKeyword>(['NEVER', 'SUCCESS', 'FAILURE', 'DELAY']);

function bad(text: string): Extract<Decision, { kind: 'reject' }> {
  return { kind: 'reject', code: 501, enhanced: '5.5.4', text };
}

function accepted<T>(value: T): Checked<T> {
  return { kind: 'accept', value };
}

/** MAIL FROM: `RET=FULL|HDRS`, `ENVID=<xtext>`. */
export function checkMailDsn(args: CommandArgs | undefined): Checked<MailDsn> {
  const ret = args?.['RET'];
  const envid = args?.['ENVID'];
  let out: MailDsn = {};
  if (ret !== undefined) {
    const value = typeof ret === 'string' ? ret.toUpperCase() : undefined;
    if (value !== 'FULL' && value !== 'HDRS') return bad('Bad RET parameter: it must be FULL or HDRS');
    out = { ...out, ret: value };
  }
  if (envid !== undefined) {
    if (typeof envid !== 'string' || !PRINTABLE_ASCII.test(envid) || envid.length > MAX_ENVID)
      return bad(`Bad ENVID parameter: it must be xtext of printable US-ASCII, at most ${MAX_ENVID} characters`);
    out = { ...out, envid };
  }
  return accepted(out);
}

/** RCPT TO: `NOTIFY=NEVER|SUCCESS,FAILURE,DELAY`, `ORCPT=<addr-type>;<xtext>`. */
export function checkRcptDsn(args: CommandArgs | undefined): Checked<RecipientDsn> {
  const notify = args?.['NOTIFY'];
  const orcpt = args?.['ORCPT'];
  let out: RecipientDsn = {};
  if (notify !== undefined) {
    const keywords = typeof notify === 'string' ? notifyKeywords(notify) : undefined;
    if (!keywords) return bad('Bad NOTIFY parameter: it must be NEVER, or one or more of SUCCESS,FAILURE,DELAY');
    if (keywords.includes('NEVER') && keywords.length > 1)
      return bad('Bad NOTIFY parameter: NEVER cannot be combined with other values');
    out = { ...out, notify: keywords };
  }
  if (orcpt !== undefined) {
    if (typeof orcpt !== 'string' || !validOrcpt(orcpt))
      return bad(`Bad ORCPT parameter: it must be <addr-type>;<xtext address>, at most ${MAX_ORCPT} characters`);
    out = { ...out, orcpt };
  }
  return accepted(out);
}

/** The keywords of a NOTIFY value, upper case; undefined when one is unknown, empty or repeated. */
function notifyKeywords(value: string): NotifyKeyword[] | undefined {
  const words = value.toUpperCase().split(',');
  if (words.some((w) => !NOTIFY_KEYWORDS.has(w)) || new Set(words).size !== words.length) return undefined;
  return words as NotifyKeyword[];
}

function validOrcpt(value: string): boolean {
  const semicolon = value.indexOf(';');
  // an empty addr-type (`;bob@…`) is refused by ADDR_TYPE below
  if (semicolon === -1 || value.length > MAX_ORCPT) return false;
  const address = value.slice(semicolon + 1);
  return ADDR_TYPE.test(value.slice(0, semicolon)) && PRINTABLE_ASCII.test(address) && address.trim() !== '';
}

/** An smtp-server `args` value (an object, or `false` when the command had none) as command arguments. */
export function commandArgs(args: unknown): CommandArgs | undefined {
  return typeof args === 'object' && args !== null ? (args as CommandArgs) : undefined;
}

/**
 * The envelope's DSN part from the accepted MAIL FROM and RCPT TO parameters
 * (each checked when its command was answered); undefined when none was given.
 */
export function envelopeDsn(
  mail: CommandArgs | undefined,
  rcpts: readonly { readonly address: string; readonly args: CommandArgs | undefined }[],
): EnvelopeDsn | undefined {
  const m = checkMailDsn(mail);
  const recipients: Record<string, RecipientDsn> = {};
  for (const r of rcpts) {
    const checked = checkRcptDsn(r.args);
    if (checked.kind === 'accept' && Object.keys(checked.value).length > 0) recipients[r.address] = checked.value;
  }
  const dsn: EnvelopeDsn = {
    ...(m.kind === 'accept' ? m.value : {}),
    ...(Object.keys(recipients).length > 0 ? { recipients } : {}),
  };
  return Object.keys(dsn).length > 0 ? dsn : undefined;
}
