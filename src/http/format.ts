import type { AuditRecord } from '../domain/audit.js';

/** One Server-Sent Events frame: `id`, `event` (the record type) and JSON `data`. */
export function formatSseEvent(record: AuditRecord): string {
  return `id: ${record.seq}\nevent: ${record.type}\ndata: ${JSON.stringify(record)}\n\n`;
}

/** An SSE comment, used for the opening line and heartbeats. */
export function formatSseComment(text: string): string {
  return `: ${text.replace(/[\r\n]+/g, ' ')}\n\n`;
}

const PLAIN_VALUE = /^[\w.@:+\-/<>[\]]+$/;

function formatValue(value: unknown): string {
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value === 'string') return PLAIN_VALUE.test(value) ? value : JSON.stringify(value);
  return JSON.stringify(value);
}

/**
 * One `/healthz` stream line, in the spirit of GopherPost's `[AUDIT] ...` lines:
 * `[AUDIT] <time> <type> key=value ...`, values quoted when they hold spaces.
 */
export function formatAuditLine(record: AuditRecord): string {
  const fields = Object.entries(record)
    .filter(([key]) => key !== 'seq' && key !== 'time' && key !== 'type')
    .map(([key, value]) => `${key}=${formatValue(value)}`);
  return `[AUDIT] ${record.time} ${record.type}${fields.length > 0 ? ' ' + fields.join(' ') : ''}\n`;
}

/**
 * `Last-Event-ID` (header, or `lastEventId` query for EventSource polyfills):
 * a non-negative integer, anything else means "no replay".
 */
export function parseLastEventId(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d{1,15}$/.test(value.trim())) return undefined;
  return Number(value.trim());
}
