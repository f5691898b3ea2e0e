/**
 * DNS queries that report whether the resolver validated the answer: the
 * AD bit (RFC 4035 §3.2.3), which node's resolver does not expose. One UDP
 * query at a time over `node:dgram`, encoded and decoded with dns2's Packet,
 * asking with RD, AD (RFC 6840 §5.7: a stub sets AD to ask for it) and
 * EDNS0's DO bit, to SMTP_DNS_SERVERS (or the system's resolvers); a
 * truncated answer is asked again over TCP (RFC 7766).
 *
 * The AD bit is only as trustworthy as the path to the resolver: it must be a
 * local validating one (RFC 7672 §1.3, as Postfix trusts it).
 *
 * In: a name and a type. Out: the response code, AD and the answer records
 * of that type (TLSA as raw RDATA), or a `SecureDnsError` (`ESERVFAIL`,
 * `ETIMEOUT`, `EREFUSED`) when no server gave an answer.
 */
import { randomInt } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { getServers } from 'node:dns';
import { connect, isIP } from 'node:net';
import dns2 from 'dns2';
import type { DnsServer } from '../config/types.js';

const { Packet } = dns2;

export const RRTYPE = { A: 1, MX: 15, AAAA: 28, TLSA: 52 } as const;
export type RrType = keyof typeof RRTYPE;

/** One answer record: its owner, and the fields dns2 decodes (TLSA: `data`, the RDATA). */
export interface SecureRecord {
  readonly name: string;
  readonly type: number;
  readonly address?: string;
  readonly exchange?: string;
  readonly priority?: number;
  readonly data?: Buffer;
}

export interface SecureAnswer {
  /** 0 NOERROR (records, or none: NODATA), 3 NXDOMAIN. */
  readonly rcode: number;
  /** The resolver validated the answer (or the denial) with DNSSEC. */
  readonly ad: boolean;
  /** The answer section's records of the asked type. */
  readonly records: readonly SecureRecord[];
}

export interface SecureDns {
  query(name: string, type: RrType): Promise<SecureAnswer>;
}

export class SecureDnsError extends Error {
  override readonly name = 'SecureDnsError';
  constructor(
    readonly code: 'ESERVFAIL' | 'ETIMEOUT' | 'ETRUNCATED' | 'EREFUSED',
    message: string,
  ) {
    super(message);
  }
}

export interface SecureDnsOptions {
  /** Per try, ms. */
  readonly timeoutMs?: number;
  /** Tries per server. */
  readonly tries?: number;
}

/** The fields of dns2's header its typings leave out. */
interface FullHeader {
  id: number;
  rd: number;
  ad: number;
  tc: number;
  rcode: number;
}

/** `host:port` pairs: the configured servers, else node's (the system's) resolvers on port 53 unless said. */
export function serversOf(servers: readonly DnsServer[]): DnsServer[] {
  if (servers.length > 0) return [...servers];
  return getServers().map((text) => {
    const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
    if (bracketed) return { host: bracketed[1] ?? '', port: Number(bracketed[2] ?? 53) };
    if (isIP(text) !== 0) return { host: text, port: 53 };
    const [host = '', port = '53'] = text.split(':');
    return { host, port: Number(port) };
  });
}

/** The query's bytes: RD and AD set, an OPT record with DO and a 1232-byte payload (DNS flag day 2020). */
export function encodeQuery(id: number, name: string, type: RrType): Buffer {
  const packet = new Packet();
  const header = packet.header as unknown as FullHeader;
  header.id = id;
  header.rd = 1;
  header.ad = 1;
  packet.questions.push({ name, type: RRTYPE[type], class: Packet.CLASS.IN } as InstanceType<typeof Packet.Question>);
  const opt = { name: '', type: Packet.TYPE.EDNS, class: 1232, ttl: 0x8000, rdata: [] };
  packet.additionals.push(opt as unknown as InstanceType<typeof Packet.Resource>);
  return packet.toBuffer();
}

/** The answer to query `id` for `name`/`type`; undefined when the datagram is not it. */
export function decodeAnswer(message: Buffer, id: number, name: string, type: RrType): SecureAnswer | undefined {
  let packet: InstanceType<typeof Packet>;
  try {
    packet = Packet.parse(message);
  } catch {
    return undefined;
  }
  const header = packet.header as unknown as FullHeader;
  const question = packet.questions[0];
  if (header.id !== id || question?.type !== RRTYPE[type]) return undefined;
  if (question.name.toLowerCase().replace(/\.$/, '') !== name.toLowerCase().replace(/\.$/, '')) return undefined;
  if (header.tc === 1) throw new SecureDnsError('ETRUNCATED', `${name} ${type}: the answer was truncated`);
  if (header.rcode === 2) throw new SecureDnsError('ESERVFAIL', `${name} ${type}: SERVFAIL`);
  if (header.rcode !== 0 && header.rcode !== 3) {
    throw new SecureDnsError('EREFUSED', `${name} ${type}: response code ${header.rcode}`);
  }
  const records = packet.answers
    .filter((r) => r.type === RRTYPE[type])
    .map((r): SecureRecord => {
      const data = (r as { data?: unknown }).data;
      return {
        name: r.name,
        type: r.type,
        ...(r.address === undefined ? {} : { address: r.address }),
        ...(r.exchange === undefined ? {} : { exchange: r.exchange }),
        ...(r.priority === undefined ? {} : { priority: r.priority }),
        ...(Buffer.isBuffer(data) ? { data } : {}),
      };
    });
  return { rcode: header.rcode, ad: header.ad === 1, records };
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/** An exchange settles once, whatever comes first (answer, error, time limit): the timer cleared, the socket closed. */
function settleOnce(timer: NodeJS.Timeout, close: () => void): (settle: () => void) => void {
  let settled = false;
  return (settle) => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    close();
    settle();
  };
}

/** One try over TCP (after a truncated UDP answer), each message after its two-byte length (RFC 1035 §4.2.2). */
export function askTcp(server: DnsServer, name: string, type: RrType, timeoutMs: number): Promise<SecureAnswer> {
  return new Promise((resolve, reject) => {
    const id = randomInt(0x10000);
    const query = encodeQuery(id, name, type);
    const socket = connect({ host: server.host, port: server.port });
    let received = Buffer.alloc(0);
    const timer = setTimeout(
      () => done(() => reject(new SecureDnsError('ETIMEOUT', `${name} ${type}: no TCP answer in ${timeoutMs} ms`))),
      timeoutMs,
    );
    const done = settleOnce(timer, () => socket.destroy());
    socket.on('error', (error) =>
      done(() => reject(new SecureDnsError('ETIMEOUT', `${name} ${type}: ${error.message}`))),
    );
    socket.on('connect', () => {
      const length = Buffer.alloc(2);
      length.writeUInt16BE(query.length);
      socket.write(Buffer.concat([length, query]));
    });
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const length = received.length >= 2 ? received.readUInt16BE(0) : Infinity;
      if (received.length < 2 + length) return;
      try {
        const answer = decodeAnswer(received.subarray(2, 2 + length), id, name, type);
        const wrong = new SecureDnsError('EREFUSED', `${name} ${type}: the TCP answer was for another query`);
        done(() => (answer ? resolve(answer) : reject(wrong)));
      } catch (error) {
        done(() => reject(asError(error)));
      }
    });
  });
}

/** One try against one server: UDP, and TCP when the answer did not fit. */
async function askServer(server: DnsServer, name: string, type: RrType, timeoutMs: number): Promise<SecureAnswer> {
  try {
    return await ask(server, name, type, timeoutMs);
  } catch (error) {
    if (error instanceof SecureDnsError && error.code === 'ETRUNCATED') return askTcp(server, name, type, timeoutMs);
    throw error;
  }
}

/** One try against one server over UDP. */
function ask(server: DnsServer, name: string, type: RrType, timeoutMs: number): Promise<SecureAnswer> {
  return new Promise((resolve, reject) => {
    const id = randomInt(0x10000);
    const socket: Socket = createSocket(isIP(server.host) === 6 ? 'udp6' : 'udp4');
    const timer = setTimeout(
      () => done(() => reject(new SecureDnsError('ETIMEOUT', `${name} ${type}: no answer in ${timeoutMs} ms`))),
      timeoutMs,
    );
    const done = settleOnce(timer, () => socket.close());
    socket.on('error', (error) =>
      done(() => reject(new SecureDnsError('ETIMEOUT', `${name} ${type}: ${error.message}`))),
    );
    socket.on('message', (message, from) => {
      // only the server asked answers (a spoofed datagram must also guess the id)
      if (from.port !== server.port || (isIP(server.host) !== 0 && from.address !== server.host)) return;
      try {
        const answer = decodeAnswer(message, id, name, type);
        if (answer) done(() => resolve(answer));
      } catch (error) {
        done(() => reject(asError(error)));
      }
    });
    socket.send(encodeQuery(id, name, type), server.port, server.host);
  });
}

export function createSecureDns(servers: readonly DnsServer[], options: SecureDnsOptions = {}): SecureDns {
  const timeoutMs = options.timeoutMs ?? 3000;
  const tries = options.tries ?? 2;
  return {
    query: async (name, type) => {
      let last: unknown = new SecureDnsError('ETIMEOUT', `${name} ${type}: no DNS server`);
      for (let round = 0; round < tries; round += 1) {
        for (const server of serversOf(servers)) {
          try {
            return await askServer(server, name, type, timeoutMs);
          } catch (error) {
            last = error;
            // SERVFAIL is the validator's verdict (a bogus answer): asking again changes nothing
            if (error instanceof SecureDnsError && error.code === 'ESERVFAIL') throw error;
          }
        }
      }
      throw last;
    },
  };
}
