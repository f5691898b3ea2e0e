/**
 * DKIM signing at delivery time (SPEC §5), for SMTP_DKIM_DOMAIN or else the
 * envelope sender's domain (the null sender: SMTP_HOSTNAME, the domain of
 * the MAILER-DAEMON address our bounces come from).
 *
 * Why at delivery and not at acceptance: the spool keeps the message exactly
 * as received (plus our trace headers); a rotated key applies to everything
 * still queued, not only to mail accepted after the restart; bounces, which
 * the queue generates itself, pass through the same path and are signed like
 * any other message; and the signature's t= is the time it leaves.
 *
 * Streaming: `sign` reads the stored message once (the body is hashed chunk
 * by chunk, only the header block is held); `signedBody` then opens it a
 * second time and yields the DKIM-Signature header followed by the stored
 * chunks as they are. Nothing holds a whole message.
 */
import { domainToASCII } from 'node:url';
import type { Config } from '../config/types.js';
import { domainOf } from '../domain/envelope.js';
import { signPass } from './mailauth-signer.js';

/** Header fields signed when present; From is oversigned (listed once more than it occurs). */
export const SIGNED_HEADERS: readonly string[] = [
  'From',
  'Sender',
  'Reply-To',
  'To',
  'Cc',
  'Subject',
  'Date',
  'Message-ID',
  'In-Reply-To',
  'References',
  'MIME-Version',
  'Content-Type',
  'Content-Transfer-Encoding',
  'Content-ID',
  'Content-Description',
  'List-Id',
  'List-Help',
  'List-Unsubscribe',
  'List-Unsubscribe-Post',
  'List-Subscribe',
  'List-Post',
  'List-Owner',
  'List-Archive',
  'Feedback-ID',
];

export type DkimConfig = NonNullable<Config['dkim']>;

export type OpenBody = () => Promise<AsyncIterable<Buffer>>;

export type SignOutcome =
  | { readonly kind: 'signed'; readonly header: string; readonly domain: string; readonly selector: string }
  | {
      readonly kind: 'unsigned';
      /**
       * `already-signed`: a DKIM-Signature with d= our domain is present;
       * `no-domain`: nothing to sign for (an address literal or no domain);
       * `no-body`: no blank line after the header block (mailauth signs nothing).
       */
      readonly reason: 'already-signed' | 'no-domain' | 'no-body';
      readonly domain: string;
    };

export interface DkimSigner {
  /**
   * One streaming pass over the stored message: the header to prepend, or why there is none. Rejects if the body cannot
   * be read.
   */
  sign(openBody: OpenBody, envelopeSender: string): Promise<SignOutcome>;
  /** `sign`, then the message once more with the DKIM-Signature header on top (unchanged when unsigned). */
  signedBody(openBody: OpenBody, envelopeSender: string): Promise<AsyncIterable<Buffer>>;
}

export interface DkimSignerOptions {
  /** Signature time (t=); Date.now by default. */
  readonly clock?: () => number;
  /** Told about every outcome (logs, metrics). */
  readonly onSign?: (outcome: SignOutcome) => void;
}

const DNS_NAME = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * d= for a message (A-labels): SMTP_DKIM_DOMAIN, else the sender's domain, else (null sender) the hostname; '' when
 * unusable.
 */
export function signingDomain(dkim: Pick<DkimConfig, 'domain'>, hostname: string, envelopeSender: string): string {
  const chosen = dkim.domain ?? (envelopeSender === '' ? hostname : domainOf(envelopeSender) || hostname);
  const ascii = chosen.startsWith('[') ? '' : domainToASCII(chosen.replace(/\.$/, '')).toLowerCase();
  return DNS_NAME.test(ascii) ? ascii : '';
}

/** `header` (CRLF-terminated), then `body`'s chunks untouched. */
export async function* prependHeader(header: string, body: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  yield Buffer.from(header, 'latin1');
  yield* body;
}

export function createDkimSigner(dkim: DkimConfig, hostname: string, options: DkimSignerOptions = {}): DkimSigner {
  const clock = options.clock ?? Date.now;

  async function sign(openBody: OpenBody, envelopeSender: string): Promise<SignOutcome> {
    const domain = signingDomain(dkim, hostname, envelopeSender);
    if (domain === '') return { kind: 'unsigned', reason: 'no-domain', domain };
    const pass = await signPass(await openBody(), {
      domain,
      selector: dkim.selector,
      privateKeyPem: dkim.privateKeyPem,
      headerList: SIGNED_HEADERS,
      signTime: new Date(clock()),
    });
    return pass.kind === 'signed'
      ? { kind: 'signed', header: pass.header, domain, selector: dkim.selector }
      : { kind: 'unsigned', reason: pass.kind, domain };
  }

  return {
    sign: async (openBody, envelopeSender) => {
      const outcome = await sign(openBody, envelopeSender);
      options.onSign?.(outcome);
      return outcome;
    },
    signedBody: async (openBody, envelopeSender) => {
      const outcome = await sign(openBody, envelopeSender);
      options.onSign?.(outcome);
      const body = await openBody();
      return outcome.kind === 'signed' ? prependHeader(outcome.header, body) : body;
    },
  };
}
