import { Resolver } from 'node:dns/promises';
import type { DNSResolver } from 'mailauth';
import { dkimVerify } from 'mailauth';
import type { DKIMVerifyResult } from 'mailauth';
import { dkimRecordName, dkimRecordValue, generateDkimKey } from '../../src/dkim/keys.js';
import type { DkimKeyType, GeneratedKey } from '../../src/dkim/keys.js';
import type { DnsZone, RunningDnsServer } from '../helpers/dns-server.js';

export interface TestKey extends GeneratedKey {
  readonly type: DkimKeyType;
  readonly selector: string;
  readonly domain: string;
}

/** A key (1024-bit RSA keeps the tests quick; the verifier's minimum) and its selector. */
export function testKey(type: DkimKeyType, selector: string, domain: string): TestKey {
  return { ...generateDkimKey(type, 1024), type, selector, domain };
}

/** Zone entries publishing `keys`. */
export function publish(zone: DnsZone, ...keys: TestKey[]): DnsZone {
  for (const key of keys) zone[dkimRecordName(key.selector, key.domain)] = { TXT: [dkimRecordValue(key.publicKey)] };
  return zone;
}

/**
 * A mailauth resolver straight over node's resolver (not the code under
 * test): the verifier sees exactly what the test DNS server publishes.
 */
export function independentResolver(dns: RunningDnsServer): DNSResolver {
  const resolver = new Resolver({ timeout: 1000, tries: 1 });
  resolver.setServers([`${dns.address}:${dns.port}`]);
  return ((name: string, rrtype: string) => resolver.resolve(name, rrtype)) as unknown as DNSResolver;
}

export function verify(message: Buffer, dns: RunningDnsServer): Promise<DKIMVerifyResult> {
  return dkimVerify(message, { resolver: independentResolver(dns) });
}

export async function collect(body: AsyncIterable<Buffer>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** An `openBody` over fixed bytes, in chunks of `size`, counting how often it is opened. */
export function bodyOf(
  message: Buffer | string,
  size = 64 * 1024,
): { open: () => Promise<AsyncIterable<Buffer>>; opened: () => number } {
  const bytes = Buffer.isBuffer(message) ? message : Buffer.from(message, 'utf8');
  let opened = 0;
  async function* chunks(): AsyncGenerator<Buffer> {
    for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
  }
  return {
    open: () => {
      opened += 1;
      return Promise.resolve(chunks());
    },
    opened: () => opened,
  };
}

export const MESSAGE = [
  'Received: from client.example (client.example [192.0.2.7]) by mx.local.test with ESMTP id abc; Tue, 24 Nov 2026 21:41:59 +0000',
  'From: Alice <alice@example.test>',
  'To: Bob <bob@example.net>',
  'Subject: Hello  there',
  'Date: Tue, 24 Nov 2026 21:41:59 +0000',
  'Message-ID: <1@example.test>',
  'MIME-Version: 1.0',
  'Content-Type: text/plain; charset=utf-8',
  '',
  'Hello Bob,',
  '',
  'a line with  two spaces and trailing space ',
  '',
  '',
].join('\r\n');
