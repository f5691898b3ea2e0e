/**
 * The TLS requirement of a destination, as a promise: SMTP_TLS_POLICY first
 * (no look-up needed), else the domain's MTA-STS policy when a source for
 * it is given (sts-source.ts), else opportunistic. Never rejects: a failing
 * MTA-STS source counts as no policy. A `dane` entry comes with what DNSSEC
 * says of the destination's MX hosts (dane-lookup.ts) when a DANE source is
 * given.
 */
import type { TlsLevel } from '../../config/types.js';
import type { DaneState } from './dane-lookup.js';
import { levelFor, requirementFor, type TlsRequirement } from './requirement.js';
import type { StsPolicy } from './sts-policy.js';

export interface TlsPlanner {
  requirement(domain: string): Promise<TlsRequirement>;
}

/** Where MTA-STS policies come from (discovery, fetch and cache). */
export interface StsSource {
  /** The policy to apply to `domain` now; undefined when it has none (or none could be had). */
  policyFor(domain: string): Promise<StsPolicy | undefined>;
}

/** Where DANE facts come from (the validating resolver). */
export type DaneSource = (domain: string) => Promise<DaneState>;

export function createTlsPlanner(table: ReadonlyMap<string, TlsLevel>, sts?: StsSource, dane?: DaneSource): TlsPlanner {
  return {
    requirement: async (domain) => {
      const level = levelFor(domain, table);
      if (level === 'dane' && dane && !domain.startsWith('[')) {
        return { ...requirementFor(domain, table, undefined), dane: await dane(domain) };
      }
      // an address literal ([192.0.2.1]) has no DNS name to publish a policy under
      if (!sts || level || domain.startsWith('[')) return requirementFor(domain, table, undefined);
      const policy = await sts.policyFor(domain).catch(() => undefined);
      return requirementFor(domain, table, policy);
    },
  };
}
