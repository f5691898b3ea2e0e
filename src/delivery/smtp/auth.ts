/**
 * SMTP AUTH for an outbound session (RFC 4954): PLAIN when the server offers
 * it (or offers neither), else LOGIN.
 *
 * In: the open connection, the server's AUTH extension parameters (undefined
 * when AUTH is not offered) and the credentials. Out: nothing once the
 * server says 235; otherwise an EAUTH `SmtpClientError`. Errors name the
 * mechanism, never a credential.
 */
import { SmtpClientError } from './errors.js';
import type { Reply } from './reply.js';
import type { SmtpWire } from './wire.js';

export interface Credentials {
  readonly user: string;
  readonly pass: string;
}

export async function authenticate(wire: SmtpWire, offered: string | undefined, auth: Credentials): Promise<void> {
  const mechanisms = (offered ?? '').toUpperCase().split(/\s+/);
  if (offered === undefined) throw new SmtpClientError('EAUTH', 'the server does not offer AUTH', 'AUTH');
  const b64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');
  let reply: Reply;
  const mechanism = mechanisms.includes('PLAIN') || !mechanisms.includes('LOGIN') ? 'AUTH PLAIN' : 'AUTH LOGIN';
  if (mechanism === 'AUTH PLAIN') {
    reply = await wire.command(`AUTH PLAIN ${b64(`\u0000${auth.user}\u0000${auth.pass}`)}`, mechanism);
  } else {
    reply = await wire.command('AUTH LOGIN');
    if (reply.code === 334) reply = await wire.command(b64(auth.user), mechanism);
    if (reply.code === 334) reply = await wire.command(b64(auth.pass), mechanism);
  }
  if (reply.code !== 235) throw new SmtpClientError('EAUTH', `authentication refused: ${reply.code}`, mechanism, reply);
}
