/**
 * The TLS requirement of a destination, as a promise: SMTP_TLS_POLICY first
 * (no look-up needed), else the domain's MTA-STS policy when a source for
 * it is given (sts-source.ts), else opportunistic. Never rejects: a failing
 * MTA-STS source counts as no policy.
 */
import type { TlsLevel } from '../../config/types.js';
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

export function createTlsPlanner(table: ReadonlyMap<string, TlsLevel>, sts?: StsSource): TlsPlanner {
  return {
    requirement: async (domain) => {
      // an address literal ([192.0.2.1]) has no DNS name to publish a policy under
      if (!sts || levelFor(domain, table) || domain.startsWith('[')) return requirementFor(domain, table, undefined);
      const policy = await sts.policyFor(domain).catch(() => undefined);
      return requirementFor(domain, table, policy);
    },
  };
}
