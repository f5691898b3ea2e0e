/**
 * What `gopherpost send` says when sending failed.
 *
 * In: the error nodemailer rejected with. Out: the message to print, with a
 * hint when the server's certificate could not be verified because it is
 * self-signed or from an unknown issuer (as the daemon's development
 * certificate is when no SMTP_TLS_CERT is set). Pure.
 */

/** Node's verification codes (and their messages) for a certificate no trusted CA vouches for. */
const UNTRUSTED_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
]);
const UNTRUSTED_MESSAGE =
  /self[- ]signed certificate|unable to get (local )?issuer certificate|unable to verify the first certificate/i;

export const UNTRUSTED_CERTIFICATE_HINT =
  "the server's TLS certificate is self-signed or from an unknown issuer, so it cannot be verified.\n" +
  'A GopherPost daemon without SMTP_TLS_CERT and SMTP_TLS_KEY uses a self-signed development certificate:\n' +
  'to test against it, add --insecure (-k); in production, give the server a certificate from a trusted CA.';

function codesOf(error: unknown): string[] {
  const codes: string[] = [];
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 3; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') codes.push(code);
  }
  return codes;
}

/** True when `error` says the peer's certificate chain ends at no trusted CA. */
export function isUntrustedCertificate(error: unknown): boolean {
  if (codesOf(error).some((code) => UNTRUSTED_CODES.has(code))) return true;
  return error instanceof Error && UNTRUSTED_MESSAGE.test(error.message);
}

/** `send failed: …`, followed by the certificate hint when it applies. */
export function describeSendFailure(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const head = `send failed: ${message}`;
  return isUntrustedCertificate(error) ? `${head}\n${UNTRUSTED_CERTIFICATE_HINT}` : head;
}
