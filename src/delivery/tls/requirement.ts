/**
 * What outbound TLS a destination requires (pure): SMTP_TLS_POLICY's entry
 * for the domain when there is one, else the domain's MTA-STS policy, else
 * opportunistic STARTTLS (`may`). An explicit entry wins over MTA-STS, as in
 * Postfix, where the policy map is the authority: it is the operator's way
 * round a partner's broken policy.
 */
import type { TlsLevel } from '../../config/types.js';
import type { TlsPolicyName } from '../../domain/tls.js';
import type { DaneState } from './dane-lookup.js';
import type { StsPolicy } from './sts-policy.js';

export interface TlsRequirement {
  readonly policy: TlsPolicyName;
  /** The domain (for reasons in replies and logs). */
  readonly domain: string;
  /** Where the policy came from: `SMTP_TLS_POLICY`, `MTA-STS` or `default`. */
  readonly source: 'SMTP_TLS_POLICY' | 'MTA-STS' | 'default';
  /** STARTTLS must succeed. */
  readonly requireTls: boolean;
  /** Certificate check: true, false, or undefined for SMTP_OUTBOUND_TLS_VERIFY. */
  readonly verify: boolean | undefined;
  /** MTA-STS: the MX patterns hosts must match (enforced in `mta-sts-enforce`, reported in testing). */
  readonly mx?: readonly string[];
  /** `dane`: what DNSSEC says of the MX hosts (dane-plan.ts); absent when not looked up. */
  readonly dane?: DaneState;
}

/** The SMTP_TLS_POLICY entry for `domain`: its own, else the nearest `.parent` entry. */
export function levelFor(domain: string, table: ReadonlyMap<string, TlsLevel>): TlsLevel | undefined {
  const name = domain.toLowerCase().replace(/\.$/, '');
  const own = table.get(name);
  if (own) return own;
  for (let dot = name.indexOf('.'); dot >= 0; dot = name.indexOf('.', dot + 1)) {
    const level = table.get(name.slice(dot));
    if (level) return level;
  }
  return undefined;
}

const LEVELS: Readonly<Record<TlsLevel, Pick<TlsRequirement, 'requireTls' | 'verify'>>> = {
  may: { requireTls: false, verify: undefined },
  encrypt: { requireTls: true, verify: false },
  verify: { requireTls: true, verify: true },
  // per host: TLSA records decide (dane-plan.ts); without them, as `may`
  dane: { requireTls: false, verify: undefined },
};

export function requirementFor(
  domain: string,
  table: ReadonlyMap<string, TlsLevel>,
  sts: StsPolicy | undefined,
): TlsRequirement {
  const level = levelFor(domain, table);
  if (level) return { policy: level, domain, source: 'SMTP_TLS_POLICY', ...LEVELS[level] };
  if (sts?.mode === 'enforce') {
    return { policy: 'mta-sts-enforce', domain, source: 'MTA-STS', requireTls: true, verify: true, mx: sts.mx };
  }
  if (sts?.mode === 'testing') {
    return { policy: 'mta-sts-testing', domain, source: 'MTA-STS', ...LEVELS.may, mx: sts.mx };
  }
  return { policy: 'may', domain, source: 'default', ...LEVELS.may };
}

/**
 * RFC 8461 §4.1: `host` matches `pattern` exactly, or `*.example.com` matches
 * one more label on the left (mail.example.com, not a.b.example.com nor
 * example.com). Case and a trailing dot do not count.
 */
export function matchesMx(host: string, pattern: string): boolean {
  const name = host.toLowerCase().replace(/\.$/, '');
  const want = pattern.toLowerCase().replace(/\.$/, '');
  if (!want.startsWith('*.')) return name === want;
  const dot = name.indexOf('.');
  return dot > 0 && name.slice(dot + 1) === want.slice(2);
}

/** Whether `host` is one of the policy's MX hosts (always, without MX patterns). */
export function mxAllowed(host: string, requirement: TlsRequirement): boolean {
  return requirement.mx === undefined || requirement.mx.some((pattern) => matchesMx(host, pattern));
}
