/**
 * The `queue shape` table, laid out as Postfix's qshape prints it: one row
 * per destination domain (the TOTAL row first), the recipients waiting (T),
 * then one column per age bucket in minutes, numbers right-aligned.
 */
import type { QueueShapeView } from '../../http/api-types.js';
import { formatTable } from './output.js';

/** Column headers for the age buckets: `5 10 … 1280 1280+`. */
export function bucketHeaders(buckets: readonly number[]): string[] {
  const last = buckets[buckets.length - 1];
  return [...buckets.map(String), last === undefined ? 'all' : `${last}+`];
}

export function formatShape(shape: QueueShapeView): string {
  const header = ['DOMAIN', 'T', ...bucketHeaders(shape.buckets)];
  const row = (domain: string, total: number, counts: readonly number[]): string[] => [
    domain,
    String(total),
    ...counts.map(String),
  ];
  const table = formatTable(
    header,
    [row('TOTAL', shape.total.total, shape.total.counts), ...shape.rows.map((r) => row(r.domain, r.total, r.counts))],
    { maxWidth: 80, align: header.map((_, i) => (i === 0 ? 'left' : 'right')) },
  );
  const cut =
    shape.rows.length < shape.domains
      ? `(the ${shape.rows.length} of ${shape.domains} domains with the most recipients waiting)\n`
      : '';
  return table + cut;
}
