/**
 * Test helper: parses a bounce with mailparser (headers, human text) and
 * splits its multipart/report body into parts, because mailparser folds the
 * text-like report parts into `text`.
 */
import { simpleParser } from 'mailparser';
import type { ParsedMail } from 'mailparser';

export interface ReportPart {
  readonly contentType: string;
  readonly content: string;
}

export interface ParsedDsn {
  readonly mail: ParsedMail;
  readonly reportType: string | undefined;
  readonly parts: readonly ReportPart[];
  /** The message/delivery-status fields: [per-message, ...per-recipient] groups. */
  readonly status: readonly Record<string, string>[];
  readonly part: (contentType: string) => string | undefined;
}

function fields(block: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of block.replace(/\r\n[ \t]+/g, ' ').split(/\r\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0) out[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return out;
}

export async function parseDsn(raw: Buffer): Promise<ParsedDsn> {
  const mail = await simpleParser(raw);
  const contentType = mail.headers.get('content-type') as { value: string; params: Record<string, string> } | undefined;
  const boundary = contentType?.params['boundary'];
  const parts: ReportPart[] = [];
  if (boundary) {
    const text = raw.toString('utf8');
    const sections = text.split(`--${boundary}`).slice(1);
    for (const section of sections) {
      if (section.startsWith('--')) break;
      const body = section.replace(/^\r\n/, '');
      const split = body.indexOf('\r\n\r\n');
      const head = fields(body.slice(0, split));
      parts.push({
        contentType: (head['content-type'] ?? '').split(';')[0]?.trim() ?? '',
        content: body.slice(split + 4).replace(/\r\n$/, ''),
      });
    }
  }
  const statusText = parts.find((p) => p.contentType === 'message/delivery-status')?.content ?? '';
  const status = statusText
    .split(/\r\n\r\n/)
    .filter((b) => b.trim() !== '')
    .map(fields);
  return {
    mail,
    reportType: contentType?.params['report-type'],
    parts,
    status,
    part: (type) => parts.find((p) => p.contentType === type)?.content,
  };
}
