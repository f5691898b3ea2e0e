/**
 * DSN parameters (RFC 3461) for the next hop: RET and ENVID on MAIL FROM,
 * NOTIFY and ORCPT on RCPT TO, xtext-encoded. Pure; sent only to a server
 * that offers DSN (session.ts decides).
 */
import { recipientDsn, type EnvelopeDsn } from '../../domain/dsn.js';

/**
 * RFC 3461 §4: xtext. Printable US-ASCII other than `+` and `=` stands for
 * itself; every other byte (UTF-8) is `+` and two upper-case hex digits.
 */
export function encodeXtext(value: string): string {
  let out = '';
  for (const byte of Buffer.from(value, 'utf8')) {
    out +=
      byte >= 0x21 && byte <= 0x7e && byte !== 0x2b && byte !== 0x3d
        ? String.fromCharCode(byte)
        : `+${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** `RET=…` and `ENVID=…` for MAIL FROM, as far as the envelope has them. */
export function mailDsnParams(dsn: EnvelopeDsn | undefined): string[] {
  return [
    ...(dsn?.ret ? [`RET=${dsn.ret}`] : []),
    ...(dsn?.envid !== undefined ? [`ENVID=${encodeXtext(dsn.envid)}`] : []),
  ];
}

/** `NOTIFY=…` and `ORCPT=<addr-type>;<xtext>` for one recipient's RCPT TO, as far as it gave them. */
export function rcptDsnParams(dsn: EnvelopeDsn | undefined, recipient: string): string[] {
  const { notify, orcpt } = recipientDsn(dsn, recipient);
  const semicolon = orcpt?.indexOf(';') ?? -1;
  return [
    ...(notify && notify.length > 0 ? [`NOTIFY=${notify.join(',')}`] : []),
    ...(orcpt !== undefined && semicolon > 0
      ? [`ORCPT=${orcpt.slice(0, semicolon)};${encodeXtext(orcpt.slice(semicolon + 1))}`]
      : []),
  ];
}
