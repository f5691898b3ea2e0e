import { describe, expect, it } from 'vitest';
import {
  asSmtpError,
  classifyError,
  classifyReply,
  isHostFailure,
  oneLine,
  stageOf,
} from '../../src/delivery/classify.js';
import type { SmtpStage } from '../../src/delivery/classify.js';

describe('classifyReply', () => {
  it.each<[number, SmtpStage, string, string]>([
    [250, 'DATA', 'delivered', 'message'],
    [251, 'RCPT', 'delivered', 'recipient'],
    [450, 'RCPT', 'deferred', 'recipient'],
    [451, 'DATA', 'deferred', 'message'],
    [452, 'RCPT', 'deferred', 'recipient'],
    [552, 'RCPT', 'deferred', 'recipient'],
    [552, 'DATA', 'failed', 'message'],
    [552, 'MAIL', 'failed', 'message'],
    [550, 'RCPT', 'failed', 'recipient'],
    [553, 'MAIL', 'failed', 'message'],
    [554, 'DATA', 'failed', 'message'],
    [421, 'RCPT', 'deferred', 'host'],
    [421, 'CONN', 'deferred', 'host'],
    [554, 'CONN', 'failed', 'host'],
    [535, 'AUTH', 'deferred', 'host'],
    [530, 'MAIL', 'deferred', 'host'],
    [451, 'EHLO', 'deferred', 'host'],
    [454, 'STARTTLS', 'deferred', 'host'],
    [554, 'EHLO', 'failed', 'host'],
    [550, 'AUTH', 'failed', 'host'],
    [534, 'STARTTLS', 'deferred', 'host'],
    [600, 'DATA', 'deferred', 'host'],
  ])('%i at %s → %s (%s)', (code, stage, kind, scope) => {
    expect(classifyReply(code, stage)).toEqual({ kind, scope });
  });
});

describe('classifyError', () => {
  it('judges by the server reply when there is one', () => {
    const err = Object.assign(new Error('Message failed: 550 5.7.1 spam'), {
      code: 'EMESSAGE',
      response: '550 5.7.1 spam',
      responseCode: 550,
      command: 'DATA',
    });
    expect(classifyError(err)).toEqual({ kind: 'failed', scope: 'message', response: '550 5.7.1 spam' });
  });

  it.each([
    [{ code: 'ESOCKET', message: 'connect ECONNREFUSED 127.0.0.1:25' }, 'deferred', 'host', /^4\.4\.1 /],
    [{ code: 'ETIMEDOUT', message: 'Greeting never received' }, 'deferred', 'host', /^4\.4\.2 /],
    [{ code: 'ETLS', message: 'self-signed certificate' }, 'deferred', 'host', /^4\.7\.5 /],
    [{ code: 'ECONNECTION', message: 'Connection closed unexpectedly' }, 'deferred', 'host', /^4\.4\.1 /],
    [{ code: 'ESTREAM', message: 'read error' }, 'deferred', 'message', /^4\.3\.0 /],
    [{ code: 'EENVELOPE', message: 'Invalid recipient "a<b"' }, 'failed', 'message', /^5\.1\.3 /],
    [{ message: 'something odd' }, 'deferred', 'message', /^4\.0\.0 /],
  ])('%j → %s/%s', (fields, kind, scope, response) => {
    const c = classifyError(Object.assign(new Error(fields.message), fields));
    expect(c).toMatchObject({ kind, scope });
    expect(c.response).toMatch(response);
  });

  it('treats a 421 on close as a host failure', () => {
    expect(
      isHostFailure(
        Object.assign(new Error('closed'), {
          code: 'ECONNECTION',
          response: '421 4.3.2 shutting down',
          responseCode: 421,
          command: 'CONN',
        }),
      ),
    ).toBe(true);
  });
});

describe('classifyError without a reply: every client error code', () => {
  it.each([
    ['ECONNECTION', 'deferred', 'host', '4.4.1'],
    ['ECONNREFUSED', 'deferred', 'host', '4.4.1'],
    ['ECONNRESET', 'deferred', 'host', '4.4.2'],
    ['EHOSTUNREACH', 'deferred', 'host', '4.4.1'],
    ['ENETUNREACH', 'deferred', 'host', '4.4.1'],
    ['ESOCKET', 'deferred', 'host', '4.4.2'],
    ['ETIMEDOUT', 'deferred', 'host', '4.4.2'],
    ['EDNS', 'deferred', 'host', '4.4.3'],
    ['ETLS', 'deferred', 'host', '4.7.5'],
    ['EPROTOCOL', 'deferred', 'host', '4.5.0'],
    ['EAUTH', 'deferred', 'host', '4.7.8'],
    ['ESTREAM', 'deferred', 'message', '4.3.0'],
    ['ELIMITS', 'deferred', 'message', '4.5.3'],
    ['EMESSAGE', 'failed', 'message', '5.3.4'],
    ['EREQUIRETLS', 'failed', 'host', '5.7.30'],
    ['EENVELOPE', 'failed', 'message', '5.1.3'],
    ['ENOSUCHCODE', 'deferred', 'message', '4.0.0'],
  ])('%s → %s/%s %s', (code, kind, scope, enhanced) => {
    expect(classifyError({ code, message: 'what  happened\r\nthen' })).toEqual({
      kind,
      scope,
      response: `${enhanced} what happened then`,
    });
  });

  it('prefers the errno in the text to a relabelled code, and reads what is not an Error', () => {
    expect(classifyError({ code: 'ESOCKET', message: 'read ECONNRESET' }).response).toBe('4.4.2 read ECONNRESET');
    expect(classifyError({ code: 'ESOCKET', message: 'connect EHOSTUNREACH 192.0.2.1:25' })).toMatchObject({
      response: '4.4.1 connect EHOSTUNREACH 192.0.2.1:25',
    });
    expect(classifyError('plain text')).toEqual({ kind: 'deferred', scope: 'message', response: '4.0.0 plain text' });
    expect(classifyError(null).response).toBe('4.0.0 null');
    expect(asSmtpError({ code: 7, responseCode: '550', command: 'DATA', message: 'm' })).toEqual({
      code: undefined,
      response: undefined,
      responseCode: undefined,
      command: 'DATA',
      message: 'm',
    });
    expect(asSmtpError({ response: '550 no' })).toMatchObject({ response: '550 no', message: '[object Object]' });
  });

  it("counts a failure as the host's only when another host may do better", () => {
    expect(isHostFailure({ code: 'ETIMEDOUT', message: 'slow' })).toBe(true);
    expect(isHostFailure({ code: 'ESTREAM', message: 'x' })).toBe(false);
  });

  it('puts a reply on one line: line ends and runs of blanks become one space', () => {
    expect(oneLine('  550-5.1.1 no\r\n550 5.1.1  such\nuser  ')).toBe('550-5.1.1 no 550 5.1.1 such user');
  });
});

describe('stageOf', () => {
  it.each([
    ['STARTTLS', 'STARTTLS'],
    ['EHLO', 'EHLO'],
    ['helo', 'EHLO'],
    ['LHLO', 'EHLO'],
    ['XDATA', 'CONN'],
    ['QUIT STARTTLS', 'CONN'],
    ['x EHLO', 'CONN'],
    ['MAIL FROM', 'MAIL'],
    ['RCPT TO', 'RCPT'],
    ['DATA', 'DATA'],
    ['AUTH PLAIN', 'AUTH'],
    ['CONN', 'CONN'],
    [undefined, 'CONN'],
  ])('%s → %s', (command, stage) => {
    expect(stageOf(command)).toBe(stage);
  });
});
