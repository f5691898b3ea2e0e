import { describe, expect, it } from 'vitest';
import { classifyError, classifyReply, isHostFailure, stageOf } from '../../src/delivery/classify.js';
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

describe('stageOf', () => {
  it.each([
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
