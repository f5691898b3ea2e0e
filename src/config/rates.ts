/** SMTP_DESTINATION_RATES: `domain=N/s|N/min|N/h,…` per-destination delivery rate limits. */
import { normaliseHostname } from './addresses.js';
import { fail, ok, splitList, type Parsed } from './parsed.js';
import type { Rate } from './types.js';

const PER_MS: Readonly<Record<string, number>> = { s: 1_000, sec: 1_000, min: 60_000, h: 3_600_000 };
const EXPECTED = 'a list of domain=N/s, domain=N/min or domain=N/h (example.com=100/min,example.org=5/s)';

export function parseDestinationRates(text: string): Parsed<ReadonlyMap<string, Rate>> {
  const rates = new Map<string, Rate>();
  for (const entry of splitList(text)) {
    const match = /^([^=\s]+)\s*=\s*(\d{1,9})\s*\/\s*(s|sec|min|h)$/i.exec(entry);
    const domain = match?.[1] === undefined ? undefined : normaliseHostname(match[1]);
    const count = Number(match?.[2]);
    const perMs = PER_MS[(match?.[3] ?? '').toLowerCase()];
    if (domain === undefined || !(count >= 1) || perMs === undefined) return fail(`${EXPECTED}; "${entry}" is not`);
    if (rates.has(domain)) return fail(`${EXPECTED}; ${domain} is listed twice`);
    rates.set(domain, { count, perMs });
  }
  return ok(rates);
}
