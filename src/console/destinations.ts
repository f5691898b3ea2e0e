/**
 * The console's queue by destination: waiting recipients, the age of the
 * oldest, the last error and the hold flag per domain. Pure: the spool's
 * shape cells (`Spool.shape`, one per domain and minute of arrival, not the
 * queue itself), the last errors, the held set and the clock come in; the
 * rows go out, most recipients waiting first, cut to `top` (held domains
 * are always listed, so an operator can release them).
 */
import type { DestinationList, DestinationView } from '../http/api-types.js';
import type { ShapeCell } from '../spool/spool.js';
import type { LastError } from './last-errors.js';

export function destinationRows(input: {
  readonly cells: readonly ShapeCell[];
  readonly held: readonly string[];
  readonly lastError: (domain: string) => LastError | undefined;
  readonly now: number;
  readonly top: number;
}): DestinationList {
  const byDomain = new Map<string, { waiting: number; oldest: number }>();
  for (const cell of input.cells) {
    if (!(cell.recipients > 0)) continue;
    const row = byDomain.get(cell.domain) ?? { waiting: 0, oldest: Infinity };
    row.waiting += cell.recipients;
    row.oldest = Math.min(row.oldest, cell.minute);
    byDomain.set(cell.domain, row);
  }
  const heldSet = new Set(input.held);
  for (const domain of heldSet) if (!byDomain.has(domain)) byDomain.set(domain, { waiting: 0, oldest: Infinity });
  const rows = [...byDomain]
    .map(([domain, row]): DestinationView => {
      const error = input.lastError(domain);
      return {
        domain,
        waiting: row.waiting,
        oldestAgeSeconds: Number.isFinite(row.oldest) ? Math.max(0, Math.floor((input.now - row.oldest) / 1000)) : null,
        held: heldSet.has(domain),
        lastError: error ? { ...error, time: new Date(error.time).toISOString() } : null,
      };
    })
    .sort((a, b) => b.waiting - a.waiting || (a.domain < b.domain ? -1 : a.domain > b.domain ? 1 : 0));
  const shown = rows.filter((row, i) => i < input.top || row.held);
  return { domains: rows.length, destinations: shown };
}
