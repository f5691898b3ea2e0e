/**
 * The AD-bit query path (SPEC §5, RFC 7672 §2.1) against a real local DNS
 * server: what the resolver says of validation (AD), MX, A and TLSA records
 * decoded, NXDOMAIN and NODATA as answers, SERVFAIL and silence as errors,
 * a truncated answer asked again over TCP, and the query itself asking for
 * DNSSEC (RD, AD, EDNS0 DO).
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, type AddressInfo, type Server } from 'node:net';
import dns2 from 'dns2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getServers } from 'node:dns';
import { createSecureDns, decodeAnswer, encodeQuery, serversOf, type SecureDns } from '../../src/dns/secure-query.js';
import { startDnsServer, type RunningDnsServer } from '../helpers/dns-server.js';

const DIGEST = 'ab'.repeat(32);
let server: RunningDnsServer;
let dns: SecureDns;

beforeAll(async () => {
  server = await startDnsServer({
    'signed.test': { MX: [{ exchange: 'mx.signed.test', priority: 10 }], ad: true },
    'mx.signed.test': { A: ['127.0.0.2'], ad: true },
    '_25._tcp.mx.signed.test': {
      TLSA: [
        { usage: 3, selector: 1, mtype: 1, data: DIGEST },
        { usage: 2, selector: 0, mtype: 1, data: 'cd'.repeat(32) },
      ],
      ad: true,
    },
    'unsigned.test': { MX: [{ exchange: 'mx.unsigned.test', priority: 10 }] },
    '_25._tcp.bogus.test': { servfail: true },
    '_25._tcp.silent.test': { drop: true },
  });
  dns = createSecureDns([{ host: server.address, port: server.port }], { timeoutMs: 300, tries: 1 });
});

afterAll(async () => {
  await server.close();
});

describe('createSecureDns', () => {
  it('reports the AD bit of a validated MX answer', async () => {
    const answer = await dns.query('signed.test', 'MX');
    expect(answer).toMatchObject({ rcode: 0, ad: true });
    expect(answer.records.map((r) => [r.exchange, r.priority])).toEqual([['mx.signed.test', 10]]);
  });

  it('reports an answer without the AD bit as not validated', async () => {
    const answer = await dns.query('unsigned.test', 'MX');
    expect(answer.ad).toBe(false);
    expect(answer.records).toHaveLength(1);
  });

  it('decodes A records and TLSA RDATA', async () => {
    expect((await dns.query('mx.signed.test', 'A')).records.map((r) => r.address)).toEqual(['127.0.0.2']);
    const tlsa = await dns.query('_25._tcp.mx.signed.test', 'TLSA');
    expect(tlsa.ad).toBe(true);
    expect(tlsa.records.map((r) => r.data?.toString('hex'))).toEqual([`030101${DIGEST}`, `020001${'cd'.repeat(32)}`]);
  });

  it('answers NODATA (the name without that type) and NXDOMAIN as answers, with their AD bit', async () => {
    expect(await dns.query('mx.signed.test', 'AAAA')).toEqual({ rcode: 0, ad: true, records: [] });
    expect(await dns.query('nowhere.test', 'TLSA')).toEqual({ rcode: 3, ad: false, records: [] });
  });

  it('rejects SERVFAIL and silence with their codes', async () => {
    await expect(dns.query('_25._tcp.bogus.test', 'TLSA')).rejects.toMatchObject({ code: 'ESERVFAIL' });
    await expect(dns.query('_25._tcp.silent.test', 'TLSA')).rejects.toMatchObject({ code: 'ETIMEOUT' });
  });
});

describe('serversOf', () => {
  it('takes SMTP_DNS_SERVERS as they are, else the system resolvers on port 53 unless they say otherwise', () => {
    expect(serversOf([{ host: '::1', port: 5353 }])).toEqual([{ host: '::1', port: 5353 }]);
    const system = serversOf([]);
    expect(system).toHaveLength(getServers().length);
    for (const server of system) {
      expect(server.host).not.toMatch(/[[\]]/);
      expect(Number.isInteger(server.port) && server.port > 0).toBe(true);
    }
  });
});

describe('encodeQuery / decodeAnswer', () => {
  it('asks with RD, AD and an EDNS0 OPT record with DO (RFC 6840 §5.7, RFC 3225)', () => {
    const packet = dns2.Packet.parse(encodeQuery(4242, 'example.test', 'TLSA'));
    const header = packet.header as unknown as { id: number; rd: number; ad: number };
    expect([header.id, header.rd, header.ad]).toEqual([4242, 1, 1]);
    expect(packet.questions[0]).toMatchObject({ name: 'example.test', type: 52 });
    const opt = packet.additionals[0] as unknown as { type: number; doFlag: boolean };
    expect(opt).toMatchObject({ type: 41, doFlag: true });
  });

  it('keeps the asked type from an answer that carries signatures (RRSIG, as with DO)', () => {
    const { Packet } = dns2;
    const question = { name: '_25._tcp.mx.signed.test', type: 52, class: 1 };
    const response = new Packet();
    Object.assign(response.header, { id: 9, qr: 1, ad: 1 });
    response.questions.push(question as InstanceType<typeof Packet.Question>);
    const signer = Buffer.from([6, ...Buffer.from('signed'), 4, ...Buffer.from('test'), 0]);
    // RRSIG RDATA (RFC 4034 §3.1): type covered, algorithm, labels, TTL, expiration, inception, key tag, signer
    const rrsig = Buffer.concat([
      Buffer.from([0, 52, 13, 4, 0, 0, 1, 44, 0x70, 0, 0, 0, 0x60, 0, 0, 0, 0x12, 0x34]),
      signer,
      Buffer.alloc(64, 7),
    ]);
    const tlsa = Buffer.concat([Buffer.from([3, 1, 1]), Buffer.from(DIGEST, 'hex')]);
    for (const [type, data] of [
      [52, tlsa],
      [46, rrsig],
    ] as const) {
      response.answers.push(
        Packet.createResourceFromQuestion(
          question as InstanceType<typeof Packet.Question>,
          {
            type,
            class: 1,
            ttl: 60,
            data,
          } as unknown as Partial<InstanceType<typeof Packet.Resource>>,
        ),
      );
    }
    const answer = decodeAnswer(response.toBuffer(), 9, '_25._tcp.mx.signed.test', 'TLSA');
    expect(answer?.ad).toBe(true);
    expect(answer?.records.map((r) => [r.type, r.data?.toString('hex')])).toEqual([[52, `030101${DIGEST}`]]);
  });

  it('ignores a datagram that answers another query', async () => {
    const socket = createSocket('udp4');
    const reply = await new Promise<Buffer>((resolve) => {
      socket.on('message', (message) => resolve(message));
      socket.send(encodeQuery(7, 'signed.test', 'MX'), server.port, server.address);
    });
    socket.close();
    expect(decodeAnswer(reply, 8, 'signed.test', 'MX')).toBeUndefined();
    expect(decodeAnswer(reply, 7, 'other.test', 'MX')).toBeUndefined();
    expect(decodeAnswer(reply, 7, 'signed.test', 'MX')?.ad).toBe(true);
  });
});

/**
 * A resolver whose UDP answers are always truncated (TC, no records) and
 * whose TCP answers on the same port hold the TLSA record, with AD.
 */
async function truncatingResolver(): Promise<{ port: number; tcpQueries: number; close: () => Promise<void> }> {
  const { Packet } = dns2;
  const answer = (query: Buffer, truncated: boolean): Buffer => {
    const request = Packet.parse(query);
    const response = Packet.createResponseFromRequest(request);
    const header = response.header as unknown as { ad: number; tc: number };
    header.ad = 1;
    header.tc = truncated ? 1 : 0;
    const question = request.questions[0];
    if (!truncated && question) {
      const data = Buffer.concat([Buffer.from([3, 1, 1]), Buffer.from(DIGEST, 'hex')]);
      response.answers.push(
        Packet.createResourceFromQuestion(question, { type: 52, class: 1, ttl: 60, data } as unknown as Partial<
          InstanceType<typeof Packet.Resource>
        >),
      );
    }
    return response.toBuffer();
  };
  const state = { tcpQueries: 0 };
  const tcp: Server = createServer((socket) => {
    socket.once('data', (chunk: Buffer) => {
      state.tcpQueries += 1;
      const reply = answer(chunk.subarray(2, 2 + chunk.readUInt16BE(0)), false);
      const length = Buffer.alloc(2);
      length.writeUInt16BE(reply.length);
      // in two writes: the client must wait for the whole message
      socket.write(Buffer.concat([length, reply.subarray(0, 5)]));
      setImmediate(() => socket.end(reply.subarray(5)));
    });
  });
  // one port number for both: an ephemeral UDP port whose TCP twin may be taken, so try again then
  let udp: UdpSocket | undefined;
  let port = 0;
  for (let tries = 0; udp === undefined && tries < 20; tries += 1) {
    const candidate = createSocket('udp4');
    await new Promise<void>((resolve) => candidate.bind(0, '127.0.0.1', resolve));
    port = candidate.address().port;
    const listening = await new Promise<boolean>((resolve) => {
      tcp.once('error', () => resolve(false));
      tcp.listen(port, '127.0.0.1', () => resolve(true));
    });
    if (listening) udp = candidate;
    else candidate.close();
  }
  if (!udp) throw new Error('no port free for both UDP and TCP');
  const server = udp;
  server.on('message', (query, from) => server.send(answer(query, true), from.port, from.address));
  expect((tcp.address() as AddressInfo).port).toBe(port);
  return {
    port,
    get tcpQueries() {
      return state.tcpQueries;
    },
    close: async () => {
      server.close();
      await new Promise<void>((resolve) => tcp.close(() => resolve()));
    },
  };
}

describe('a truncated answer', () => {
  it('is asked again over TCP on the same server (RFC 7766)', async () => {
    const resolver = await truncatingResolver();
    try {
      const dnsOverTcp = createSecureDns([{ host: '127.0.0.1', port: resolver.port }], { timeoutMs: 1000, tries: 1 });
      const answer = await dnsOverTcp.query('_25._tcp.big.test', 'TLSA');
      expect(answer.ad).toBe(true);
      expect(answer.records.map((r) => r.data?.toString('hex'))).toEqual([`030101${DIGEST}`]);
      expect(resolver.tcpQueries).toBe(1);
    } finally {
      await resolver.close();
    }
  });
});
