/**
 * The `TLS-Required` header field (RFC 8689 §3), read from a header block
 * (pure): `TLS-Required: No` asks that the recipient domain's TLS policies
 * (MTA-STS, DANE, a configured requirement) be set aside for this message.
 * Folded lines are unfolded; the name and the value compare without case.
 */

/** Whether the header block (no body) holds `TLS-Required: No`. */
export function tlsRequiredNo(headers: Buffer): boolean {
  const text = headers.toString('latin1').replace(/\r?\n[ \t]+/g, ' ');
  return text.split(/\r?\n/).some((line) => /^TLS-Required[ \t]*:[ \t]*No[ \t]*$/i.test(line));
}
