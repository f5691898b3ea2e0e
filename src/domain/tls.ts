/**
 * Outbound TLS decisions: which policy governed a delivery to a host and
 * what came of it. Types only.
 *
 * Policies: `may` (STARTTLS when offered), `encrypt` (STARTTLS required, any
 * certificate), `verify` (STARTTLS required, the certificate checked against
 * the MX host name): SMTP_TLS_POLICY, or `may` when nothing says otherwise;
 * `mta-sts-enforce` and `mta-sts-testing`: the recipient domain's MTA-STS
 * policy (RFC 8461); `dane` (SMTP_TLS_POLICY): a host with DNSSEC-validated
 * TLSA records authenticated by them (RFC 7672), the others as `may`;
 * `tls-required-no`: the message's `TLS-Required: No` header set the
 * domain's policy aside (RFC 8689), STARTTLS when offered, any certificate.
 */
export type TlsPolicyName =
  'may' | 'encrypt' | 'verify' | 'dane' | 'mta-sts-enforce' | 'mta-sts-testing' | 'tls-required-no';

/**
 * What the host did: `verified` (TLS, certificate checked and good),
 * `encrypted` (TLS, certificate not good or not checked), `cleartext` (no
 * TLS offered), `starttls-missing` (TLS required, not offered),
 * `starttls-failed` (STARTTLS refused or its handshake failed),
 * `certificate-invalid` (the check failed), `mx-mismatch` (the host is not
 * one the MTA-STS policy names), `dane-verified` (TLS, the certificate
 * matched the host's TLSA records), `dane-failed` (it matched none, or the
 * TLSA look-up failed), `requiretls-unmet` (a REQUIRETLS message did not
 * go: the destination or the host's TLS cannot be authenticated, or the
 * host does not offer REQUIRETLS; RFC 8689).
 */
export type TlsResult =
  | 'verified'
  | 'encrypted'
  | 'cleartext'
  | 'starttls-missing'
  | 'starttls-failed'
  | 'certificate-invalid'
  | 'mx-mismatch'
  | 'dane-verified'
  | 'dane-failed'
  | 'requiretls-unmet';

export interface TlsDecision {
  readonly policy: TlsPolicyName;
  readonly result: TlsResult;
  /** The policy stopped this host from getting the mail (the attempt defers for it). */
  readonly refused: boolean;
  /** The host (`name[address]:port`), or the MX name for `mx-mismatch`. */
  readonly host: string;
  /** Why, in words (the certificate error, the policy's MX patterns …). */
  readonly detail?: string;
  /** The TLS error's code, when there is one (`CERT_HAS_EXPIRED`, `ERR_TLS_CERT_ALTNAME_INVALID` …). */
  readonly reason?: string;
  /** DANE: the host's usable TLSA records in presentation form (`3 1 1 <hex>`), TLS-RPT's `tlsa` policy. */
  readonly tlsa?: readonly string[];
}
