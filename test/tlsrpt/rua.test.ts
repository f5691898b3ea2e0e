/** `_smtp._tls` TXT records (RFC 8460 §3), parsed strictly. */
import { describe, expect, it } from 'vitest';
import { parseTlsRptRecord, parseTlsRptRecords } from '../../src/tlsrpt/rua.js';

describe('parseTlsRptRecord', () => {
  it('reads mailto: and https: URIs', () => {
    const parsed = parseTlsRptRecord('v=TLSRPTv1; rua=mailto:reports@example.com, https://r.example.com/v1');
    expect(parsed.ok && parsed.rua.map((r) => [r.kind, r.uri])).toEqual([
      ['mailto', 'mailto:reports@example.com'],
      ['https', 'https://r.example.com/v1'],
    ]);
    expect(parsed.ok && parsed.rua[0]?.kind === 'mailto' && parsed.rua[0].address).toBe('reports@example.com');
  });

  it('accepts a trailing delimiter, spaces round it and extension fields', () => {
    const parsed = parseTlsRptRecord('v=TLSRPTv1 ;rua=mailto:tls%2Breports@example.com ; ext_1=x.y;');
    expect(parsed).toMatchObject({ ok: true, rua: [{ kind: 'mailto', address: 'tls+reports@example.com' }] });
  });

  it.each([
    ['v=TLSRPTv2; rua=mailto:a@example.com', 'does not start with v=TLSRPTv1'],
    ['rua=mailto:a@example.com; v=TLSRPTv1', 'does not start with v=TLSRPTv1'],
    ['v=TLSRPTv1', 'has no rua='],
    ['v=TLSRPTv1; rua=mailto:a@example.com; rua=mailto:b@example.com', 'more than one rua='],
    ['v=TLSRPTv1; rua=ftp://example.com/', 'neither a mailto: nor an https: URI'],
    ['v=TLSRPTv1; rua=http://example.com/', 'neither a mailto: nor an https: URI'],
    ['v=TLSRPTv1; rua=mailto:nobody', 'has no mail address'],
    ['v=TLSRPTv1; rua=mailto:a@example.com,', 'is not a list of URIs'],
    ['v=TLSRPTv1; rua=mailto:a@example.com; junk', 'is not a name=value field'],
  ])('%s', (text, why) => {
    const parsed = parseTlsRptRecord(text);
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.why).toContain(why);
  });
});

describe('parseTlsRptRecords', () => {
  it('is undefined without a TLSRPT record, ignoring other TXT records', () => {
    expect(parseTlsRptRecords([['v=spf1 -all']])).toBeUndefined();
  });

  it('joins a record split into character-strings', () => {
    expect(parseTlsRptRecords([['v=TLSRPTv1; rua=mai', 'lto:a@example.com']])).toMatchObject({ ok: true });
  });

  it('refuses several records', () => {
    const parsed = parseTlsRptRecords([['v=TLSRPTv1; rua=mailto:a@example.com'], ['v=TLSRPTv1; rua=mailto:b@x.com']]);
    expect(parsed).toEqual({ ok: false, why: '2 v=TLSRPTv1 TXT records; exactly one is allowed' });
  });
});
