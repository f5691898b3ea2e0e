import { isIP } from 'node:net';

/** Why an envelope address was refused; undefined when it is acceptable. */
export type AddressProblem = 'too-long' | 'control' | 'path' | 'syntax';

/** RFC 5321 §4.5.3.1: path (without the angle brackets) and local-part limits, in octets. */
export const MAX_ADDRESS_OCTETS = 254;
export const MAX_LOCAL_OCTETS = 64;
const MAX_LABEL = 63;

// atext (RFC 5322) plus any non-ASCII character (SMTPUTF8); `/` is left out on purpose.
const ATOM = /^[A-Za-z0-9!#$%&'*+\-=?^_`{|}~\u0080-\u{10FFFF}]+$/u;
const QUOTED = /^"[^"\\]*"$/u;
const LABEL = /^[A-Za-z0-9\u0080-\u{10FFFF}](?:[A-Za-z0-9\u0080-\u{10FFFF}-]*[A-Za-z0-9\u0080-\u{10FFFF}])?$/u;

/** C0 and C1 controls (NUL, CR, LF included), DEL, and the Unicode line/paragraph separators. */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/u;

/** UTF-8 length, without encoding (this runs for every MAIL and RCPT). */
function octets(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

function localPartOk(local: string): boolean {
  if (octets(local) > MAX_LOCAL_OCTETS) return false; // an empty local part fails both patterns
  return QUOTED.test(local) || local.split('.').every((atom) => ATOM.test(atom));
}

function domainOk(domain: string): boolean {
  if (domain.startsWith('[') && domain.endsWith(']')) {
    const literal = domain.slice(1, -1);
    return literal.toLowerCase().startsWith('ipv6:') ? isIP(literal.slice(5)) === 6 : isIP(literal) === 4;
  }
  return domain.split('.').every((label) => LABEL.test(label) && octets(label) <= MAX_LABEL);
}

/**
 * Syntax check of an envelope address (no angle brackets, case kept). Beyond
 * RFC 5321 it refuses anything that could escape a path if an address ever
 * reached a file name: `/`, `\`, `..`, NUL and other control characters.
 * `bareNames` lists local-only addresses accepted without a domain
 * (RFC 5321 requires `<Postmaster>` as a recipient).
 */
export function addressProblem(address: string, bareNames?: readonly string[]): AddressProblem | undefined {
  if (octets(address) > MAX_ADDRESS_OCTETS) return 'too-long';
  if (CONTROL.test(address)) return 'control';
  if (/[/\\]/.test(address) || address.includes('..')) return 'path';
  if (bareNames?.some((name) => name.toLowerCase() === address.toLowerCase()) === true) return undefined;
  const at = address.lastIndexOf('@');
  if (at === -1) return 'syntax'; // `@domain`: the empty local part fails localPartOk
  return localPartOk(address.slice(0, at)) && domainOk(address.slice(at + 1)) ? undefined : 'syntax';
}

/** Human text for a problem, used in the reply. */
export function describeProblem(problem: AddressProblem): string {
  switch (problem) {
    case 'too-long':
      return 'address too long';
    case 'control':
      return 'control characters in address';
    case 'path':
      return 'illegal characters in address';
    case 'syntax':
      return 'address syntax error';
  }
}
