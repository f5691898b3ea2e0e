/**
 * DSN parameters outbound (RFC 3461): our SMTP client passes RET/ENVID on
 * MAIL FROM and NOTIFY/ORCPT on RCPT TO, xtext-encoded, to a real
 * smtp-server sink that offers DSN (the exact lines it read are checked),
 * and leaves them off for one that does not.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { EnvelopeDsn } from '../../src/domain/dsn.js';
import { encodeXtext, mailDsnParams, rcptDsnParams } from '../../src/delivery/smtp/dsn-params.js';
import { SmtpSession, type SessionOptions } from '../../src/delivery/smtp/session.js';
import { startSink, type Sink } from '../helpers/sink.js';

const sinks: Sink[] = [];
afterEach(async () => {
  for (const s of sinks.splice(0)) await s.close();
});

function options(port: number): SessionOptions {
  return {
    host: '127.0.0.1',
    port,
    tlsVerify: false,
    name: 'mta.sender.test',
    connectTimeoutMs: 2_000,
    greetingTimeoutMs: 2_000,
    socketTimeoutMs: 2_000,
  };
}

async function* body(text: string): AsyncGenerator<Buffer> {
  yield Buffer.from(text);
}

const dsn: EnvelopeDsn = {
  ret: 'HDRS',
  envid: 'id 1+2=3',
  recipients: {
    'b@example.test': { notify: ['SUCCESS', 'DELAY'], orcpt: 'rfc822;b+old@example.test' },
    'c@example.test': { notify: ['NEVER'] },
  },
};

describe('encodeXtext', () => {
  it.each([
    ['plain', 'plain'],
    ['a b', 'a+20b'],
    ['1+2=3', '1+2B2+3D3'],
    ['tab\there', 'tab+09here'],
    ['é', '+C3+A9'],
    ['!~', '!~'],
  ])('%j → %j', (value, xtext) => {
    expect(encodeXtext(value)).toBe(xtext);
  });

  it('gives the parameters only for what the envelope has', () => {
    expect(mailDsnParams(undefined)).toEqual([]);
    expect(mailDsnParams({ envid: '' })).toEqual(['ENVID=']);
    expect(rcptDsnParams(dsn, 'd@example.test')).toEqual([]);
    expect(rcptDsnParams(dsn, 'c@example.test')).toEqual(['NOTIFY=NEVER']);
    // an empty NOTIFY list, and an ORCPT without an address type before its ';', send nothing
    const odd = {
      recipients: { 'e@example.test': { notify: [], orcpt: ';e@example.test' }, 'f@x.test': { orcpt: 'f' } },
    };
    expect(rcptDsnParams(odd, 'e@example.test')).toEqual([]);
    expect(rcptDsnParams(odd, 'f@x.test')).toEqual([]);
    expect(rcptDsnParams({ recipients: { 'g@x.test': { orcpt: 'rfc822;g@x.test' } } }, 'g@x.test')).toEqual([
      'ORCPT=rfc822;g@x.test',
    ]);
  });
});

describe('DSN parameters to the next hop (§3, §4)', () => {
  it('passes RET, ENVID, NOTIFY and ORCPT, xtext-encoded, to a server that offers DSN', async () => {
    const sink = await startSink();
    sinks.push(sink);
    const session = await SmtpSession.open(options(sink.port));
    const result = await session.send(
      { from: 'a@sender.test', to: ['b@example.test', 'c@example.test', 'd@example.test'], size: 20, dsn },
      body('Subject: x\r\n\r\nhi\r\n'),
    );
    session.quit();
    expect(result.dsn).toBe(true);
    expect(result.data?.code).toBe(250);
    const [message] = await sink.waitForMessages(1);
    expect(message?.commands).toEqual([
      'MAIL FROM:<a@sender.test> SIZE=20 RET=HDRS ENVID=id+201+2B2+3D3',
      'RCPT TO:<b@example.test> NOTIFY=SUCCESS,DELAY ORCPT=rfc822;b+2Bold@example.test',
      'RCPT TO:<c@example.test> NOTIFY=NEVER',
      'RCPT TO:<d@example.test>',
      'DATA',
    ]);
  });

  it('sends no DSN parameter to a server that does not offer DSN, and says so', async () => {
    const sink = await startSink({ dsn: false });
    sinks.push(sink);
    const session = await SmtpSession.open(options(sink.port));
    const result = await session.send(
      { from: 'a@sender.test', to: ['b@example.test'], dsn },
      body('Subject: x\r\n\r\nhi\r\n'),
    );
    session.quit();
    expect(result.dsn).toBe(false);
    const [message] = await sink.waitForMessages(1);
    expect(message?.commands).toEqual(['MAIL FROM:<a@sender.test>', 'RCPT TO:<b@example.test>', 'DATA']);
  });
});
