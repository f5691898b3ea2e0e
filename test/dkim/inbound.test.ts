import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { authenticateInbound } from '../../src/dkim/inbound.js';
import type { InboundAuthContext, InboundAuthResult } from '../../src/dkim/inbound.js';
import { authservId, dropForgedFields } from '../../src/dkim/auth-results.js';
import { createDkimSigner } from '../../src/dkim/signer.js';
import { createResolver } from '../../src/dns/resolver.js';
import { addTraceHeaders, limitSize, SizeLimitError } from '../../src/inbound/message-stream.js';
import { startDnsServer } from '../helpers/dns-server.js';
import type { RunningDnsServer } from '../helpers/dns-server.js';
import { bodyOf, collect, publish, testKey } from './helpers.js';

const key = testKey('rsa', 'sel', 'pass.test');
let dns: RunningDnsServer;
let tmp: string;

beforeAll(async () => {
  dns = await startDnsServer(
    publish(
      {
        'pass.test': { TXT: ['v=spf1 ip4:127.0.0.1 -all'] },
        '_dmarc.pass.test': { TXT: ['v=DMARC1; p=reject'] },
        'fail.test': { TXT: ['v=spf1 ip4:192.0.2.1 -all'] },
        '_dmarc.fail.test': { TXT: ['v=DMARC1; p=reject'] },
        'soft.test': { TXT: ['v=spf1 ~all'] },
        'none.test': { A: ['192.0.2.9'] },
        'drop.test': { drop: true },
        '_dmarc.drop.test': { drop: true },
        'sel._domainkey.drop.test': { drop: true },
      },
      key,
    ),
  );
  tmp = await mkdtemp(join(tmpdir(), 'gp-auth-'));
});
afterAll(async () => {
  await dns.close();
  await rm(tmp, { recursive: true, force: true });
});
afterEach(async () => {
  // every temp file is gone, whatever happened (removal is asynchronous: allow it a moment on a busy machine)
  const deadline = Date.now() + 3000;
  while ((await readdir(tmp)).length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
  expect(await readdir(tmp)).toEqual([]);
});

function message(from: string, body = 'Hello.\r\n'): string {
  return `From: <${from}>\r\nTo: <bob@mx.local.test>\r\nSubject: test\r\nDate: Tue, 24 Nov 2026 21:41:59 +0000\r\nMessage-ID: <m@x>\r\n\r\n${body}`;
}

async function signedBy(text: string, sender: string): Promise<Buffer> {
  const signer = createDkimSigner(
    { selector: key.selector, domain: 'pass.test', privateKeyPem: key.privateKeyPem, keyPath: undefined },
    'mx.local.test',
  );
  return collect(await signer.signedBody(bodyOf(text).open, sender));
}

function context(
  sender: string,
  extra: Partial<InboundAuthContext> = {},
): InboundAuthContext & { results: InboundAuthResult[] } {
  const results: InboundAuthResult[] = [];
  return {
    ip: '127.0.0.1',
    helo: 'client.pass.test',
    sender,
    hostname: 'mx.local.test',
    resolver: createResolver([{ host: dns.address, port: dns.port }], { timeoutMs: 300, tries: 1 }),
    tmpDir: tmp,
    onResult: (r) => results.push(r),
    ...extra,
    results,
  };
}

async function* chunks(data: Buffer | string, size = 7): AsyncGenerator<Buffer> {
  const bytes = Buffer.isBuffer(data) ? data : Buffer.from(data);
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}

/** The AR header the stage put on top, unfolded, and the rest. */
function split(output: Buffer): { header: string; rest: Buffer } {
  const text = output.toString('latin1');
  const end = text.search(/\r\n(?![ \t])/);
  return { header: text.slice(0, end).replace(/\r\n[ \t]+/g, ' '), rest: output.subarray(end + 2) };
}

describe('inbound SPF/DKIM/DMARC (§5)', () => {
  it('pass: a DKIM-signed message from an SPF-listed IP, DMARC aligned', async () => {
    const original = await signedBy(message('alice@pass.test'), 'alice@pass.test');
    const ctx = context('alice@pass.test');
    const output = await collect(authenticateInbound(chunks(original), ctx));
    const { header, rest } = split(output);
    expect(rest.equals(original)).toBe(true);
    expect(header).toMatch(/^Authentication-Results: mx\.local\.test; /);
    expect(header).toMatch(/dkim=pass header\.i=@pass\.test header\.s=sel/);
    expect(header).toMatch(/spf=pass .*smtp\.mailfrom=alice@pass\.test/);
    expect(header).toMatch(/dmarc=pass .*header\.from=pass\.test/);
    expect(ctx.results).toEqual([
      expect.objectContaining({
        spf: 'pass',
        dmarc: 'pass',
        dkim: [{ domain: 'pass.test', selector: 'sel', result: 'pass' }],
      }),
    ]);
    expect(ctx.results[0]?.header.replace(/\r\n[ \t]+/g, ' ')).toBe(`${header}\r\n`);
  });

  it('fail: SPF excludes the IP, no signature, DMARC p=reject fails', async () => {
    const ctx = context('alice@fail.test');
    const { header } = split(await collect(authenticateInbound(chunks(message('alice@fail.test')), ctx)));
    expect(header).toMatch(/dkim=none/);
    expect(header).toMatch(/spf=fail /);
    expect(header).toMatch(/dmarc=fail .*header\.from=fail\.test/);
    expect(ctx.results[0]).toMatchObject({ spf: 'fail', dmarc: 'fail', dkim: [{ result: 'none' }] });
  });

  it('softfail and none', async () => {
    const soft = context('a@soft.test');
    expect(split(await collect(authenticateInbound(chunks(message('a@soft.test')), soft))).header).toMatch(
      /spf=softfail /,
    );
    const none = context('a@none.test');
    const { header } = split(await collect(authenticateInbound(chunks(message('a@none.test')), none)));
    expect(header).toMatch(/spf=none /);
    expect(header).toMatch(/dmarc=none/);
    expect(none.results[0]).toMatchObject({ spf: 'none', dmarc: 'none', dkim: [{ result: 'none' }], arc: 'none' });
  });

  it('a signature broken in transit is no DKIM pass, and DMARC then fails on a failing SPF too', async () => {
    const tampered = (await signedBy(message('alice@pass.test'), 'alice@pass.test'))
      .toString('latin1')
      .replace('Hello.', 'Pay now.');
    const ctx = context('alice@pass.test', { ip: '192.0.2.200' });
    const { header } = split(await collect(authenticateInbound(chunks(tampered), ctx)));
    expect(ctx.results[0]?.dkim[0]?.result).not.toBe('pass');
    expect(header).toMatch(/spf=fail /);
    expect(header).toMatch(/dmarc=fail/);
  });

  it('a DNS server that never answers: temperror, and the whole message still comes through', async () => {
    const original = message('a@drop.test', 'x'.repeat(200_000) + '\r\n');
    const ctx = context('a@drop.test', {
      resolver: createResolver([{ host: dns.address, port: dns.port }], { timeoutMs: 5_000, tries: 2 }),
      dnsBudgetMs: 800,
    });
    const started = Date.now();
    const { header, rest } = split(await collect(authenticateInbound(chunks(original, 64 * 1024), ctx)));
    expect(Date.now() - started).toBeLessThan(5_000); // the budget, not the resolver's timeouts
    expect(rest.toString('latin1')).toBe(original);
    expect(header).toMatch(/spf=temperror/);
    expect(header).toMatch(/dmarc=temperror/);
    expect(ctx.results[0]).toMatchObject({ spf: 'temperror', dmarc: 'temperror' });
  });

  it('removes Authentication-Results that claim to be ours, keeps the others', async () => {
    const forged = `Authentication-Results: MX.local.test;\r\n dkim=pass header.d=bank.test\r\nAuthentication-Results: other.example; spf=pass\r\n${message('a@none.test')}`;
    const { rest } = split(await collect(authenticateInbound(chunks(forged), context('a@none.test'))));
    expect(rest.toString()).toBe(`Authentication-Results: other.example; spf=pass\r\n${message('a@none.test')}`);
  });

  it('deletes the temp file when the consumer stops early, and when the source fails', async () => {
    const stage = authenticateInbound(
      chunks(message('a@none.test', 'y'.repeat(300_000)), 1024),
      context('a@none.test'),
    );
    const first = await stage.next();
    expect(first.done).toBe(false);
    expect((await readdir(tmp)).length).toBe(1);
    await stage.return(undefined);

    const tooBig = authenticateInbound(
      limitSize(chunks(message('a@none.test', 'z'.repeat(5000))), 1000),
      context('a@none.test'),
    );
    await expect(collect(tooBig)).rejects.toBeInstanceOf(SizeLimitError);
  });

  it('fits the inbound chain: Received on top, then Authentication-Results, then the message', async () => {
    const original = message('a@pass.test').replace('Message-ID: <m@x>\r\n', '');
    const stored = await collect(
      addTraceHeaders(authenticateInbound(limitSize(chunks(original), 10_000), context('a@pass.test')), {
        received: 'from client by mx.local.test',
        hostname: 'mx.local.test',
      }),
    );
    const names = stored
      .toString()
      .split('\r\n\r\n')[0]
      ?.split(/\r\n(?![ \t])/)
      .map((field) => field.slice(0, field.indexOf(':')));
    expect(names?.slice(0, 4)).toEqual(['Received', 'Message-ID', 'Authentication-Results', 'From']);
  });
});

describe('Authentication-Results helpers', () => {
  it.each([
    ['Authentication-Results: mx.local.test; spf=pass', 'mx.local.test'],
    ['Authentication-Results:   (comment) MX.Local.Test 1; none', 'mx.local.test'],
    ['Authentication-Results:\r\n\tmx.local.test;\r\n dkim=pass', 'mx.local.test'],
  ])('authservId(%j) = %s', (field, id) => {
    expect(authservId(field)).toBe(id);
  });

  it('dropForgedFields keeps the bytes of everything else', () => {
    const block = Buffer.from(
      'X-A: 1\r\nAuthentication-Results: mx.local.test;\r\n\tspf=pass\r\nX-B: \xe9\r\n',
      'latin1',
    );
    expect(dropForgedFields(block, 'mx.local.test').equals(Buffer.from('X-A: 1\r\nX-B: \xe9\r\n', 'latin1'))).toBe(
      true,
    );
    const clean = Buffer.from('X-A: 1\r\n');
    expect(dropForgedFields(clean, 'mx.local.test')).toBe(clean);
  });
});
