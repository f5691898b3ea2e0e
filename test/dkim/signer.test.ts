import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDkimSigner, signingDomain } from '../../src/dkim/signer.js';
import type { SignOutcome } from '../../src/dkim/signer.js';
import { startDnsServer } from '../helpers/dns-server.js';
import type { RunningDnsServer } from '../helpers/dns-server.js';
import { bodyOf, collect, MESSAGE, publish, testKey, verify } from './helpers.js';
import type { TestKey } from './helpers.js';

const rsa = testKey('rsa', 'rsa1', 'example.test');
const ed25519 = testKey('ed25519', 'ed1', 'example.test');
const other = testKey('rsa', 'o1', 'other.test');
let dns: RunningDnsServer;

beforeAll(async () => {
  dns = await startDnsServer(publish({}, rsa, ed25519, other));
});
afterAll(() => dns.close());

function signerFor(key: TestKey, domain?: string, onSign?: (outcome: SignOutcome) => void) {
  return createDkimSigner(
    { selector: key.selector, domain, privateKeyPem: key.privateKeyPem, keyPath: undefined },
    'mx.local.test',
    {
      clock: () => Date.UTC(2026, 10, 24, 21, 42),
      ...(onSign ? { onSign } : {}),
    },
  );
}

async function signed(
  key: TestKey,
  message: string | Buffer,
  sender = 'alice@example.test',
  domain?: string,
): Promise<Buffer> {
  return collect(await signerFor(key, domain).signedBody(bodyOf(message).open, sender));
}

function dkimSignatures(message: Buffer): string[] {
  const head = message.toString('latin1').split('\r\n\r\n')[0] ?? '';
  return head.split(/\r\n(?![ \t])/).filter((field) => /^dkim-signature:/i.test(field));
}

describe('DKIM signing at delivery (§5)', () => {
  it.each([
    ['RSA', rsa, 'rsa-sha256'],
    ['Ed25519', ed25519, 'ed25519-sha256'],
  ])('%s: the signed message verifies with mailauth against the published key', async (_name, key, algorithm) => {
    const message = await signed(key, MESSAGE);
    // stored bytes untouched below the header
    expect(message.subarray(message.length - MESSAGE.length).toString()).toBe(MESSAGE);
    const [signature] = dkimSignatures(message);
    expect(signature).toMatch(new RegExp(`d=example\\.test;`));
    expect(signature).toMatch(new RegExp(`s=${key.selector};`));
    expect(signature).toContain(`a=${algorithm}`);
    expect(signature).toContain('c=relaxed/relaxed');
    expect(signature).toContain('t=1795556520');
    const result = await verify(message, dns);
    expect(result.results).toHaveLength(1);
    expect(result.results[0]?.status).toMatchObject({ result: 'pass', aligned: 'example.test' });
  });

  it('signs the sensible header list and oversigns From', async () => {
    const [signature] = dkimSignatures(await signed(rsa, MESSAGE));
    const h = /h=([^;]*);/.exec((signature ?? '').replace(/\r\n[ \t]/g, ' '))?.[1] ?? '';
    const names = h.split(':').map((n) => n.trim().toLowerCase());
    expect(names.filter((n) => n === 'from')).toHaveLength(2);
    expect(names).toEqual(
      expect.arrayContaining(['to', 'subject', 'date', 'message-id', 'mime-version', 'content-type']),
    );
    expect(names).not.toContain('received');
  });

  it('fails verification when the message changes after signing', async () => {
    const message = (await signed(rsa, MESSAGE)).toString('latin1');
    const cases = {
      body: message.replace('Hello Bob,', 'Hello Eve,'),
      subject: message.replace('Subject: Hello  there', 'Subject: Pay now'),
      'a second From on top (oversigned)': `From: Mallory <m@evil.test>\r\n${message}`,
    };
    for (const [what, changed] of Object.entries(cases)) {
      const result = await verify(Buffer.from(changed, 'latin1'), dns);
      // mailauth says `neutral (body hash did not verify)` for a changed body, `fail` for changed headers
      expect(result.results[0]?.status.result, what).not.toBe('pass');
      expect(result.results[0]?.status.result, what).toMatch(/^(fail|neutral)$/);
    }
    const body = await verify(Buffer.from(cases.body, 'latin1'), dns);
    expect(body.results[0]?.status.comment).toMatch(/body hash/);
  });

  it('survives what relaxed canonicalization allows (whitespace, header case, trailing empty lines)', async () => {
    const message = (await signed(ed25519, MESSAGE)).toString('latin1');
    const reflowed =
      message.replace('Subject: Hello  there', 'SUBJECT:   Hello there').replace('two spaces', 'two     spaces') +
      '\r\n\r\n';
    expect((await verify(Buffer.from(reflowed, 'latin1'), dns)).results[0]?.status.result).toBe('pass');
  });

  it('does not sign twice for the same domain, and adds its own next to another domain', async () => {
    const once = await signed(rsa, MESSAGE);
    const outcomes: SignOutcome[] = [];
    const again = await collect(
      await signerFor(rsa, undefined, (o) => outcomes.push(o)).signedBody(bodyOf(once).open, 'alice@example.test'),
    );
    expect(again.equals(once)).toBe(true);
    expect(outcomes).toEqual([{ kind: 'unsigned', reason: 'already-signed', domain: 'example.test' }]);

    const byOther = await signed(other, MESSAGE, 'alice@example.test', 'other.test');
    const both = await signed(rsa, byOther);
    expect(dkimSignatures(both)).toHaveLength(2);
    const result = await verify(both, dns);
    expect(result.results.map((r) => [r.signingDomain, r.status.result]).sort()).toEqual([
      ['example.test', 'pass'],
      ['other.test', 'pass'],
    ]);
  });

  it('stops reading a message that is already signed once the header block is known', async () => {
    const once = await signed(rsa, MESSAGE);
    const big = Buffer.concat([once, Buffer.alloc(4 * 1024 * 1024, 'a')]);
    let chunksRead = 0;
    const open = () =>
      Promise.resolve(
        (async function* () {
          for (let at = 0; at < big.length; at += 16 * 1024) {
            chunksRead += 1;
            yield big.subarray(at, at + 16 * 1024);
          }
        })(),
      );
    const outcome = await signerFor(rsa).sign(open, 'alice@example.test');
    expect(outcome.kind).toBe('unsigned');
    expect(chunksRead).toBeLessThan(10);
  });

  it('streams: one pass to sign, then the stored chunks as they are, for a 10 MiB message', async () => {
    const line = 'x'.repeat(998) + '\r\n';
    const big = Buffer.from(MESSAGE + line.repeat(Math.ceil((10 * 1024 * 1024) / line.length)), 'latin1');
    const body = bodyOf(big);
    const stream = await signerFor(ed25519).signedBody(body.open, 'alice@example.test');
    expect(body.opened()).toBe(2);
    let chunks = 0;
    let largest = 0;
    const parts: Buffer[] = [];
    for await (const chunk of stream) {
      chunks += 1;
      largest = Math.max(largest, chunk.length);
      parts.push(chunk);
    }
    expect(largest).toBeLessThanOrEqual(64 * 1024); // never a whole message at once
    expect(chunks).toBe(1 + Math.ceil(big.length / (64 * 1024)));
    expect((await verify(Buffer.concat(parts), dns)).results[0]?.status.result).toBe('pass');
  });

  it('signs bounces (null sender) for the hostname, and a message without a body separator not at all', async () => {
    const outcome = await signerFor(rsa).sign(bodyOf('From: MAILER-DAEMON@mx.local.test\r\n\r\nbounce\r\n').open, '');
    expect(outcome).toMatchObject({ kind: 'signed', domain: 'mx.local.test' });
    expect(
      await signerFor(rsa).sign(bodyOf('From: a@example.test\r\nSubject: no body\r\n').open, 'a@example.test'),
    ).toEqual({
      kind: 'unsigned',
      reason: 'no-body',
      domain: 'example.test',
    });
  });

  it('rejects when the stored body cannot be read (the attempt is deferred)', async () => {
    const open = () =>
      Promise.resolve(
        (async function* () {
          yield Buffer.from('From: a@example.test\r\n');
          throw new Error('EIO');
        })(),
      );
    await expect(signerFor(rsa).signedBody(open, 'a@example.test')).rejects.toThrow('EIO');
  });
});

describe('signingDomain', () => {
  it.each([
    [{ domain: 'example.com' }, 'alice@sender.test', 'example.com'],
    [{ domain: undefined }, 'alice@Sender.TEST', 'sender.test'],
    [{ domain: undefined }, '', 'mx.local.test'],
    [{ domain: undefined }, 'postmaster', 'mx.local.test'],
    [{ domain: undefined }, 'a@bücher.test', 'xn--bcher-kva.test'],
    [{ domain: undefined }, 'a@[192.0.2.1]', ''],
  ])('%o with sender %s → %s', (dkim, sender, expected) => {
    expect(signingDomain(dkim, 'mx.local.test', sender)).toBe(expected);
  });
});
