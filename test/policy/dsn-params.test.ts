import { describe, expect, it } from 'vitest';
import { wantsNotice, type EnvelopeDsn } from '../../src/domain/dsn.js';
import { checkMailDsn, checkRcptDsn, commandArgs, envelopeDsn } from '../../src/policy/dsn-params.js';

describe('checkMailDsn (RFC 3461 RET, ENVID)', () => {
  it.each([
    [undefined, {}],
    [{}, {}],
    [{ RET: 'FULL' }, { ret: 'FULL' }],
    [{ RET: 'hdrs' }, { ret: 'HDRS' }],
    [{ ENVID: 'QQ314159' }, { envid: 'QQ314159' }],
    [
      { RET: 'HDRS', ENVID: 'a b+c=d' },
      { ret: 'HDRS', envid: 'a b+c=d' },
    ],
    [{ ENVID: 'x'.repeat(100) }, { envid: 'x'.repeat(100) }],
    [{ SIZE: '100', BODY: '8BITMIME' }, {}],
  ])('%j is accepted as %j', (args, value) => {
    expect(checkMailDsn(args)).toEqual({ kind: 'accept', value });
  });

  it.each([
    [{ RET: 'BODY' }, 'RET parameter: it must be FULL or HDRS'],
    [{ RET: true }, 'RET parameter'],
    [{ ENVID: true }, 'ENVID parameter'],
    [{ ENVID: 'héllo' }, 'ENVID parameter: it must be xtext of printable US-ASCII'],
    [{ ENVID: 'tab\there' }, 'ENVID parameter'],
    [{ ENVID: 'x'.repeat(101) }, 'at most 100 characters'],
  ])('%j is refused 501 5.5.4 (%s)', (args, text) => {
    const checked = checkMailDsn(args);
    expect(checked).toMatchObject({ kind: 'reject', code: 501, enhanced: '5.5.4' });
    expect(checked.kind === 'reject' ? checked.text : '').toContain(text);
  });
});

describe('checkRcptDsn (RFC 3461 NOTIFY, ORCPT)', () => {
  it.each([
    [undefined, {}],
    [{ NOTIFY: 'NEVER' }, { notify: ['NEVER'] }],
    [{ NOTIFY: 'success,Failure,DELAY' }, { notify: ['SUCCESS', 'FAILURE', 'DELAY'] }],
    [{ ORCPT: 'rfc822;bob+tag@example.test' }, { orcpt: 'rfc822;bob+tag@example.test' }],
    [{ ORCPT: `rfc822;${'b'.repeat(480)}@example.test` }, { orcpt: `rfc822;${'b'.repeat(480)}@example.test` }], // 500
    [
      { NOTIFY: 'DELAY', ORCPT: 'utf-8;bob@example.test' },
      { notify: ['DELAY'], orcpt: 'utf-8;bob@example.test' },
    ],
  ])('%j is accepted as %j', (args, value) => {
    expect(checkRcptDsn(args)).toEqual({ kind: 'accept', value });
  });

  it.each([
    [{ NOTIFY: 'NEVER,SUCCESS' }, 'NEVER cannot be combined'],
    [{ NOTIFY: 'SOMETIMES' }, 'NOTIFY parameter: it must be NEVER'],
    [{ NOTIFY: 'SUCCESS,SUCCESS' }, 'NOTIFY parameter'],
    [{ NOTIFY: 'SUCCESS,' }, 'NOTIFY parameter'],
    [{ NOTIFY: true }, 'NOTIFY parameter'],
    [{ ORCPT: 'bob@example.test' }, 'ORCPT parameter'],
    [{ ORCPT: 'rfc822' }, 'ORCPT parameter'],
    [{ ORCPT: ';bob@example.test' }, 'ORCPT parameter'],
    [{ ORCPT: 'rfc822;' }, 'ORCPT parameter'],
    [{ ORCPT: 'rfc822;   ' }, 'ORCPT parameter'],
    [{ ORCPT: 'rfc 822;bob@example.test' }, 'ORCPT parameter'],
    [{ ORCPT: 'rfc822;bøb@example.test' }, 'ORCPT parameter'],
    [{ ORCPT: `rfc822;${'b'.repeat(500)}@example.test` }, 'at most 500 characters'],
  ])('%j is refused 501 5.5.4 (%s)', (args, text) => {
    const checked = checkRcptDsn(args);
    expect(checked).toMatchObject({ kind: 'reject', code: 501, enhanced: '5.5.4' });
    expect(checked.kind === 'reject' ? checked.text : '').toContain(text);
  });
});

describe('envelopeDsn', () => {
  it('is undefined when no DSN parameter was given', () => {
    expect(envelopeDsn(commandArgs(false), [{ address: 'a@x.test', args: commandArgs({ SIZE: '1' }) }])).toBe(
      undefined,
    );
  });

  it('keeps RET, ENVID and the recipients that gave NOTIFY or ORCPT', () => {
    const dsn = envelopeDsn({ RET: 'full', ENVID: 'e1' }, [
      { address: 'a@x.test', args: { NOTIFY: 'NEVER' } },
      { address: 'b@x.test', args: undefined },
      { address: 'c@x.test', args: { ORCPT: 'rfc822;C@x.test' } },
    ]);
    expect(dsn).toEqual({
      ret: 'FULL',
      envid: 'e1',
      recipients: { 'a@x.test': { notify: ['NEVER'] }, 'c@x.test': { orcpt: 'rfc822;C@x.test' } },
    });
  });
});

describe('wantsNotice', () => {
  const dsn: EnvelopeDsn = {
    recipients: {
      never: { notify: ['NEVER'] },
      success: { notify: ['SUCCESS'] },
      delay: { notify: ['DELAY', 'FAILURE'] },
      orcptOnly: { orcpt: 'rfc822;x@y.test' },
    },
  };
  it.each([
    ['never', 'failed', false],
    ['never', 'delayed', false],
    ['never', 'relayed', false],
    ['success', 'failed', false],
    ['success', 'delayed', false],
    ['success', 'relayed', true],
    ['delay', 'failed', true],
    ['delay', 'delayed', true],
    ['delay', 'relayed', false],
    ['orcptOnly', 'failed', true],
    ['orcptOnly', 'delayed', true],
    ['orcptOnly', 'relayed', false],
    ['unlisted', 'failed', true],
    ['unlisted', 'relayed', false],
    ['toString', 'relayed', false],
  ] as const)('%s wants %s: %s', (recipient, kind, expected) => {
    expect(wantsNotice(dsn, recipient, kind)).toBe(expected);
  });

  it('without a DSN part: failures and delays, no successes', () => {
    expect([wantsNotice(undefined, 'a', 'failed'), wantsNotice(undefined, 'a', 'delayed')]).toEqual([true, true]);
    expect(wantsNotice(undefined, 'a', 'relayed')).toBe(false);
  });
});

describe('commandArgs', () => {
  it('takes the parameters object smtp-server gives, and nothing else', () => {
    const args = { RET: 'FULL' };
    expect(commandArgs(args)).toBe(args);
    expect(commandArgs(false)).toBeUndefined(); // smtp-server: the command had no parameters
    expect(commandArgs(null)).toBeUndefined();
    expect(commandArgs(undefined)).toBeUndefined();
    expect(commandArgs('RET=FULL')).toBeUndefined();
  });
});
