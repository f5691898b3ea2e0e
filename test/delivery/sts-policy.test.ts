/** MTA-STS texts (RFC 8461 §3.1, §3.2), parsed without sockets. */
import { describe, expect, it } from 'vitest';
import { parseStsPolicy, parseStsRecord } from '../../src/delivery/tls/sts-policy.js';

describe('parseStsPolicy', () => {
  it('reads the RFC example, CRLF or LF, extra fields ignored', () => {
    const text =
      'version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\nmx: *.example.net\r\nmx: backupmx.example.com\r\nmax_age: 604800\r\n';
    expect(parseStsPolicy(text)).toEqual({
      ok: true,
      value: { mode: 'enforce', mx: ['mail.example.com', '*.example.net', 'backupmx.example.com'], maxAge: 604_800 },
    });
    expect(parseStsPolicy('version: STSv1\nmode: testing\nmx: MX.Example.COM.\nmax_age:86400\nextension: x\n')).toEqual(
      {
        ok: true,
        value: { mode: 'testing', mx: ['mx.example.com'], maxAge: 86_400 },
      },
    );
  });

  it('takes the version line with blanks around STSv1, a max_age of exactly a year, and names of 253 characters', () => {
    const name = `${'a'.repeat(61)}.${'b'.repeat(61)}.${'c'.repeat(61)}.${'d'.repeat(61)}.tests`; // 253
    expect(name).toHaveLength(253);
    expect(parseStsPolicy(`version:\tSTSv1 \nmode: enforce\nmx: ${name}\nmax_age: 31557600\n`)).toEqual({
      ok: true,
      value: { mode: 'enforce', mx: [name], maxAge: 31_557_600 },
    });
    // a line without a key (": x") or without a colon is not a field
    expect(parseStsPolicy('version: STSv1\n: mode: testing\nmode enforce\nmode: none\nmax_age: 5\n')).toEqual({
      ok: true,
      value: { mode: 'none', mx: [], maxAge: 5 },
    });
    // field names are case-insensitive and may have blanks before the colon
    expect(parseStsPolicy('version: STSv1\nMode : none\nMAX_AGE: 7\n')).toMatchObject({
      ok: true,
      value: { maxAge: 7 },
    });
  });

  it('takes mode none without mx lines', () => {
    expect(parseStsPolicy('version: STSv1\nmode: none\nmax_age: 0\n')).toEqual({
      ok: true,
      value: { mode: 'none', mx: [], maxAge: 0 },
    });
  });

  it.each([
    ['no version line first', 'mode: enforce\nversion: STSv1\nmx: a.test\nmax_age: 1\n', 'version: STSv1'],
    ['another version', 'version: STSv2\nmode: enforce\nmx: a.test\nmax_age: 1\n', 'version: STSv1'],
    [
      'an unknown mode',
      'version: STSv1\nmode: strict\nmx: a.test\nmax_age: 1\n',
      'mode is not enforce, testing or none (strict)',
    ],
    ['no mode', 'version: STSv1\nmx: a.test\nmax_age: 1\n', '(missing)'],
    ['no max_age', 'version: STSv1\nmode: enforce\nmx: a.test\n', 'max_age is not 0-31557600 (missing)'],
    ['a max_age over a year', 'version: STSv1\nmode: enforce\nmx: a.test\nmax_age: 31557601\n', 'max_age'],
    ['a negative max_age', 'version: STSv1\nmode: enforce\nmx: a.test\nmax_age: -1\n', 'max_age'],
    ['enforce without mx', 'version: STSv1\nmode: enforce\nmax_age: 60\n', 'mode enforce needs at least one mx'],
    ['a bad mx', 'version: STSv1\nmode: enforce\nmx: *.*.a.test\nmax_age: 60\n', 'mx "*.*.a.test" is not'],
    ['a bare label mx', 'version: STSv1\nmode: enforce\nmx: localhost\nmax_age: 60\n', 'mx "localhost" is not'],
    ['HTML', '<html><body>not found</body></html>', 'version: STSv1'],
    ['text after the version', 'version: STSv1x\nmode: none\nmax_age: 1\n', 'version: STSv1'],
    ['text before the version', 'xversion: STSv1\nmode: none\nmax_age: 1\n', 'version: STSv1'],
    [
      'an mx label with a character outside the pattern',
      'version: STSv1\nmode: enforce\nmx: a_b.test\nmax_age: 1\n',
      'mx "a_b.test"',
    ],
    ['an mx label ending in a dash', 'version: STSv1\nmode: enforce\nmx: a-.test\nmax_age: 1\n', 'mx "a-.test"'],
    ['an mx label starting with a dash', 'version: STSv1\nmode: enforce\nmx: -a.test\nmax_age: 1\n', 'mx "-a.test"'],
    [
      'an mx name over 253 characters',
      `version: STSv1\nmode: enforce\nmx: ${'a'.repeat(61)}.${'b'.repeat(61)}.${'c'.repeat(61)}.${'d'.repeat(61)}.testxy\nmax_age: 1\n`,
      'is not a host name',
    ],
    [
      'a max_age with letters after it',
      'version: STSv1\nmode: enforce\nmx: a.test\nmax_age: 60s\n',
      'max_age is not 0-31557600 (60s)',
    ],
  ])('refuses %s', (_name, text, why) => {
    const parsed = parseStsPolicy(text);
    expect(parsed.ok).toBe(false);
    expect(parsed.ok ? '' : parsed.why).toContain(why);
  });
});

describe('parseStsRecord', () => {
  it.each<[string, string[][], string]>([
    ['the RFC example', [['v=STSv1; id=20160831085700Z;']], '20160831085700Z'],
    [
      'split character-strings, extensions and other TXT records',
      [['v=spf1 -all'], ['v=STSv1; ', 'id=abc123; ext=1']],
      'abc123',
    ],
    ['no trailing semicolon', [['v=STSv1;id=x1']], 'x1'],
    ['blanks before the first semicolon', [['v=STSv1  ; id=x2']], 'x2'],
  ])('reads %s', (_name, records, id) => {
    expect(parseStsRecord(records)).toEqual({ ok: true, value: { id } });
  });

  it('is undefined when no record is an MTA-STS one', () => {
    expect(parseStsRecord([])).toBeUndefined();
    expect(parseStsRecord([['v=spf1 -all'], ['v=STSv10; id=1']])).toBeUndefined();
    // the version tag must open the record
    expect(parseStsRecord([['x v=STSv1; id=1']])).toBeUndefined();
    // a bare version tag is a record (without an id: refused)
    expect(parseStsRecord([['v=STSv1']])).toMatchObject({ ok: false });
  });

  it.each<[string, string[][], string]>([
    ['two records', [['v=STSv1; id=a'], ['v=STSv1; id=b']], '2 v=STSv1 TXT records'],
    ['no id', [['v=STSv1;']], 'no id of 1-32 letters and digits (missing)'],
    ['a bad id', [['v=STSv1; id=not-ok']], '(not-ok)'],
    ['a long id', [[`v=STSv1; id=${'a'.repeat(33)}`]], 'no id'],
  ])('refuses %s', (_name, records, why) => {
    const parsed = parseStsRecord(records);
    expect(parsed?.ok).toBe(false);
    expect(parsed && !parsed.ok ? parsed.why : '').toContain(why);
  });
});
