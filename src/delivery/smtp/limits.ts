/**
 * A next hop's LIMITS (RFC 9422) from its EHLO line `LIMITS RCPTMAX=50
 * MAILMAX=100 …`. Pure.
 *
 * In:  the LIMITS keyword's parameters (undefined when not advertised).
 * Out: the limits we honour: RCPT commands per transaction, MAIL commands
 *      per connection. A limit that is absent, zero or not a number is no
 *      limit; unknown limits (RCPTDOMAINMAX, …) are ignored.
 */

export interface ServerLimits {
  /** Most RCPT commands in one transaction. */
  readonly rcptMax?: number;
  /** Most MAIL commands (transactions) on one connection. */
  readonly mailMax?: number;
}

const NONE: ServerLimits = Object.freeze({});

export function parseLimits(params: string | undefined): ServerLimits {
  if (params === undefined) return NONE;
  const limits: { rcptMax?: number; mailMax?: number } = {};
  for (const pair of params.split(/\s+/)) {
    const [name = '', value = ''] = pair.split('=');
    const number = /^\d{1,9}$/.test(value) ? Number(value) : 0;
    if (number === 0) continue;
    const key = name.toUpperCase();
    if (key === 'RCPTMAX') limits.rcptMax = number;
    else if (key === 'MAILMAX') limits.mailMax = number;
  }
  return limits;
}
