/** Distinct label values kept before further reasons are folded into `other`. */
const MAX_REASONS = 32;
const MAX_LENGTH = 48;

/**
 * Turns free-text rejection reasons into a bounded set of Prometheus label
 * values (`Too many connections from 1.2.3.4` must not create a series per IP):
 * lower-cased, digits and punctuation folded to `_`, truncated, and at most
 * `MAX_REASONS` distinct values per process.
 */
export function createReasonLabeler(maxReasons = MAX_REASONS): (reason: string) => string {
  const seen = new Set<string>();
  return (reason) => {
    const slug =
      reason
        .toLowerCase()
        .replace(/[^a-z]+/g, '_')
        .replace(/^_+|_+$/g, '')
        .slice(0, MAX_LENGTH)
        .replace(/_+$/, '') || 'unknown';
    if (seen.has(slug)) return slug;
    if (seen.size >= maxReasons) return 'other';
    seen.add(slug);
    return slug;
  };
}
