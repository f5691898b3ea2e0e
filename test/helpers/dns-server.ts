/**
 * A real UDP DNS server on 127.0.0.1 (ephemeral port) for tests, built with
 * dns2. Serves a mutable in-memory zone:
 *
 *   const dns = await startDnsServer({
 *     'example.test': { MX: [{ exchange: 'mx.example.test', priority: 10 }] },
 *     'mx.example.test': { A: ['127.0.0.1'] },
 *   });
 *   createResolver([{ host: dns.address, port: dns.port }]);
 *   dns.zone['other.test'] = { A: ['127.0.0.1'] }; // records may change at run time
 *   await dns.close();
 *
 * Names are case-insensitive (a trailing dot is ignored). Unknown names answer
 * NXDOMAIN; a known name without the asked type answers NOERROR with no
 * records (node: ENODATA). `MX: [{ exchange: '.', priority: 0 }]` (or an empty
 * exchange) is a null MX (RFC 7505). TXT strings longer than 255 bytes are
 * split into 255-byte character-strings, which resolvers join again.
 *
 * Test-only extensions: `servfail: true` answers SERVFAIL for that name
 * (`servfail: ['A', 'AAAA']` only for queries of those types),
 * `drop: true` never answers (the client times out), `ad: true` sets the AD
 * bit (RFC 4035: as a validating resolver does for a DNSSEC-validated answer)
 * on every answer for that name, records or none.
 *
 * TLSA records (RFC 6698): `TLSA: [{ usage: 3, selector: 1, mtype: 1, data: 'hex…' }]`.
 */
import dns2 from 'dns2';
import type { Question, Resource } from 'dns2';

export interface DnsZoneEntry {
  A?: string[];
  AAAA?: string[];
  MX?: { exchange: string; priority: number }[];
  /** Long strings are split into 255-byte chunks. */
  TXT?: string[];
  PTR?: string[];
  TLSA?: { usage: number; selector: number; mtype: number; data: string }[];
  /** Answers for this name carry the AD bit (validated). */
  ad?: boolean;
  /** Seconds; default 300. */
  ttl?: number;
  /** Answer SERVFAIL for every query of this name, or only for queries of the types listed. */
  servfail?: boolean | readonly string[];
  /** Never answer queries for this name (the client times out). */
  drop?: boolean;
}

export interface DnsZone {
  [name: string]: DnsZoneEntry;
}

export interface RunningDnsServer {
  readonly address: string;
  readonly port: number;
  /** Mutable: tests may add, change or delete records while the server runs. */
  readonly zone: DnsZone;
  /** Queries received so far, as `name TYPE` (lower-case name), for assertions. */
  readonly queries: string[];
  close(): Promise<void>;
}

const { Packet } = dns2;
const DEFAULT_TTL = 300;
/** RFC 1035 §4.1.1 response codes (dns2's typings omit Packet.RCODE). */
const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3 } as const;
const TXT_CHUNK = 255;
const TLSA_TYPE = 52;

function normalize(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

function findEntry(zone: DnsZone, name: string): DnsZoneEntry | undefined {
  const wanted = normalize(name);
  for (const [key, entry] of Object.entries(zone)) {
    if (normalize(key) === wanted) return entry;
  }
  return undefined;
}

function typeName(type: number): string {
  if (type === TLSA_TYPE) return 'TLSA';
  const found = Object.entries(Packet.TYPE).find(([, value]) => value === type);
  return found ? found[0] : String(type);
}

/** Splits a TXT string into character-strings of at most 255 bytes (UTF-8 aware at byte level). */
function txtChunks(text: string): Buffer[] {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length === 0) return [Buffer.alloc(0)];
  const chunks: Buffer[] = [];
  for (let offset = 0; offset < bytes.length; offset += TXT_CHUNK) {
    chunks.push(bytes.subarray(offset, offset + TXT_CHUNK));
  }
  return chunks;
}

function answersFor(question: Question, entry: DnsZoneEntry): Partial<Resource>[] {
  const ttl = entry.ttl ?? DEFAULT_TTL;
  const base = { name: question.name, class: Packet.CLASS.IN, ttl };
  switch (question.type) {
    case Packet.TYPE.A:
      return (entry.A ?? []).map((address) => ({ ...base, type: Packet.TYPE.A, address }));
    case Packet.TYPE.AAAA:
      return (entry.AAAA ?? []).map((address) => ({ ...base, type: Packet.TYPE.AAAA, address }));
    case Packet.TYPE.MX:
      return (entry.MX ?? []).map((mx) => ({
        ...base,
        type: Packet.TYPE.MX,
        priority: mx.priority,
        // '.' and '' both encode as the root name: a null MX (RFC 7505).
        exchange: mx.exchange === '.' ? '' : mx.exchange,
      }));
    case Packet.TYPE.TXT:
      // dns2's TXT encoder takes an array of character-strings (Buffers allowed).
      return (entry.TXT ?? []).map((text) => ({
        ...base,
        type: Packet.TYPE.TXT,
        data: txtChunks(text) as unknown as string[],
      }));
    case Packet.TYPE.PTR:
      return (entry.PTR ?? []).map((domain) => ({ ...base, type: Packet.TYPE.PTR, domain }));
    case TLSA_TYPE:
      // dns2 has no TLSA encoder: it writes a record's `data` Buffer as the RDATA
      return (entry.TLSA ?? []).map((t) => ({
        ...base,
        type: TLSA_TYPE,
        data: Buffer.concat([
          Buffer.from([t.usage, t.selector, t.mtype]),
          Buffer.from(t.data, 'hex'),
        ]) as unknown as string,
      }));
    default:
      return [];
  }
}

export async function startDnsServer(zone: DnsZone): Promise<RunningDnsServer> {
  const queries: string[] = [];
  const server = dns2.createServer({
    udp: true,
    handle: (request, send) => {
      const response = Packet.createResponseFromRequest(request);
      response.header.aa = 1;
      response.header.ra = 1;
      const question = request.questions[0];
      if (!question) {
        response.header.rcode = RCODE.FORMERR;
        void send(response).catch(() => undefined);
        return;
      }
      queries.push(`${normalize(question.name)} ${typeName(question.type)}`);
      const entry = findEntry(zone, question.name);
      if (entry?.drop) return;
      if (!entry) {
        response.header.rcode = RCODE.NXDOMAIN;
      } else if (
        entry.servfail === true ||
        (Array.isArray(entry.servfail) && entry.servfail.includes(typeName(question.type)))
      ) {
        response.header.rcode = RCODE.SERVFAIL;
      } else {
        (response.header as unknown as { ad: number }).ad = entry.ad ? 1 : 0;
        for (const record of answersFor(question, entry)) {
          response.answers.push(Packet.createResourceFromQuestion(question, record));
        }
      }
      void send(response).catch(() => undefined);
    },
  });
  server.on('requestError', () => undefined);
  const addresses = await server.listen({ udp: { port: 0, address: '127.0.0.1' } });
  const udp = addresses.udp;
  if (!udp) throw new Error('dns2 did not bind a UDP socket');
  let closed: Promise<void> | undefined;
  return {
    address: udp.address,
    port: udp.port,
    zone,
    queries,
    close: () => (closed ??= server.close()),
  };
}
