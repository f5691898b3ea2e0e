/**
 * Test harness for the HTTP surface: the real koa app on a real listening
 * server (127.0.0.1, ephemeral port) over a real file spool, plus a plain
 * node:http client, a streaming SSE client and a Prometheus text parser.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { createAuditBus, type AuditBus } from '../../src/audit/bus.js';
import { startConsoleFeeds } from '../../src/console/feeds.js';
import { openHolds } from '../../src/console/holds.js';
import type { Envelope, MessageRecord } from '../../src/domain/envelope.js';
import { createHttpApp, type Readiness } from '../../src/http/app.js';
import { startHttpServer, type HttpServerHandle } from '../../src/http/server.js';
import { createLogger, type Logger } from '../../src/log/logger.js';
import { createMetrics, observeAudit, type Metrics } from '../../src/metrics/registry.js';
import { openFileSpool } from '../../src/spool/file-spool.js';
import type { Spool } from '../../src/spool/spool.js';

export interface Harness {
  readonly url: string;
  readonly port: number;
  readonly audit: AuditBus;
  readonly metrics: Metrics;
  readonly spool: Spool;
  readonly server: HttpServerHandle;
  readonly logs: string[];
  /** The spool directory (holds.json lives there with `console`). */
  readonly dir: string;
  setReadiness(state: Readiness): void;
  close(): Promise<void>;
}

export interface HarnessOptions {
  readonly adminToken?: string;
  readonly auditEnabled?: boolean;
  readonly heartbeatMs?: number;
  readonly subscriberBuffer?: number;
  readonly replay?: number;
  readonly host?: string;
  /** Console feeds (graphs, last errors, holds in the spool directory) for `/ui` and its API. */
  readonly console?: boolean;
}

/** A pino logger writing into an array. */
export function memoryLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString('utf8'));
      done();
    },
  });
  return { logger: createLogger('debug', sink), lines };
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const dir = await mkdtemp(join(tmpdir(), 'gp-http-'));
  const spool = await openFileSpool({ path: dir });
  const audit = createAuditBus({ enabled: options.auditEnabled ?? true, replay: options.replay ?? 100 });
  const metrics = createMetrics({
    queueDepth: () => spool.depth(),
    oldestWaitingAt: () => spool.oldestWaitingAt(),
    spoolCheck: () => spool.check(),
  });
  const metricsSubscription = observeAudit(metrics, audit.raw$);
  let readiness: Readiness = { ok: true };
  const { logger, lines } = memoryLogger();
  const feeds = options.console
    ? startConsoleFeeds({ events$: audit.raw$, spool, holds: await openHolds(join(dir, 'holds.json')) })
    : undefined;
  const app = createHttpApp({
    ...(feeds ? { console: feeds } : {}),
    audit,
    metrics,
    spool,
    readiness: () => Promise.resolve(readiness),
    adminToken: options.adminToken,
    logger,
    heartbeatMs: options.heartbeatMs ?? 60_000,
    subscriberBuffer: options.subscriberBuffer ?? 1024,
  });
  const server = await startHttpServer(app, options.host ?? '127.0.0.1', 0, logger);
  return {
    url: server.url,
    port: server.port,
    audit,
    metrics,
    spool,
    server,
    logs: lines,
    dir,
    setReadiness: (state) => void (readiness = state),
    close: async () => {
      await server.close(100);
      metricsSubscription.unsubscribe();
      feeds?.stop();
      audit.close();
      await spool.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export function envelope(overrides: Partial<Envelope> = {}): Envelope {
  return {
    sender: 'alice@example.test',
    recipients: ['Bob@example.test', 'carol@example.test'],
    clientAddress: '127.0.0.1',
    heloName: 'client.example.test',
    receivedAt: Date.UTC(2026, 0, 2, 3, 4, 5),
    ...overrides,
  };
}

export function storeMessage(spool: Spool, body: string, overrides: Partial<Envelope> = {}): Promise<MessageRecord> {
  return spool.store(envelope(overrides), Readable.from([Buffer.from(body)]));
}

export interface HttpResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly text: string;
  json<T = unknown>(): T;
}

export interface RequestOptions {
  readonly method?: string;
  readonly headers?: Record<string, string>;
  readonly body?: string;
  /** Connect to this address instead of the URL's host (Host header keeps the URL's). */
  readonly connectTo?: string;
}

/** One plain HTTP request with node:http (no fetch: tests need to set Host and Origin). */
export function request(url: string, options: RequestOptions = {}): Promise<HttpResponse> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: options.connectTo ?? target.hostname.replace(/^\[|\]$/g, ''),
        port: target.port,
        path: target.pathname + target.search,
        method: options.method ?? 'GET',
        headers: { host: target.host, ...options.headers },
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text,
            json: <T>() => JSON.parse(text) as T,
          });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

export interface SseEvent {
  readonly id: string | undefined;
  readonly event: string | undefined;
  readonly data: string;
}

/** A long-lived streaming response read chunk by chunk, for `/audit` and `/healthz`. */
export interface StreamClient {
  readonly response: IncomingMessage;
  /** Everything received so far. */
  text(): string;
  /** SSE events parsed from what was received so far. */
  events(): SseEvent[];
  /** SSE comment lines (without the leading colon) received so far. */
  comments(): string[];
  /** Waits until `check` on the received text holds. */
  until(check: (text: string) => boolean, timeoutMs?: number): Promise<void>;
  /** Like `until`, but `check` sees only the last two chunks (cheap on multi-megabyte streams). */
  untilTail(check: (tail: string) => boolean, timeoutMs?: number): Promise<void>;
  waitForEvents(count: number, timeoutMs?: number): Promise<SseEvent[]>;
  close(): void;
}

/** Parses SSE frames (blank-line separated) per the HTML spec's field rules. */
export function parseSse(text: string): { events: SseEvent[]; comments: string[] } {
  const events: SseEvent[] = [];
  const comments: string[] = [];
  const complete = text.slice(0, text.lastIndexOf('\n\n') + 2);
  for (const frame of complete.split('\n\n')) {
    if (frame === '') continue;
    let id: string | undefined;
    let event: string | undefined;
    const data: string[] = [];
    for (const line of frame.split('\n')) {
      if (line.startsWith(':')) {
        comments.push(line.slice(1).trim());
        continue;
      }
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'id') id = value;
      else if (field === 'event') event = value;
      else if (field === 'data') data.push(value);
    }
    if (data.length > 0) events.push({ id, event, data: data.join('\n') });
  }
  return { events, comments };
}

export function openStream(url: string, headers: Record<string, string> = {}): Promise<StreamClient> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: target.hostname, port: target.port, path: target.pathname + target.search, headers, agent: false },
      (res) => {
        let received = '';
        let tail = '';
        const waiters = new Set<() => void>();
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          received += chunk;
          tail = tail.slice(-chunk.length) + chunk;
          for (const wake of waiters) wake();
        });
        const wait = (check: () => boolean, timeoutMs: number): Promise<void> =>
          new Promise((done, fail) => {
            if (check()) return done();
            const timer = setTimeout(() => {
              waiters.delete(wake);
              fail(new Error(`timed out; received so far:\n${received}`));
            }, timeoutMs);
            const wake = (): void => {
              if (!check()) return;
              clearTimeout(timer);
              waiters.delete(wake);
              done();
            };
            waiters.add(wake);
          });
        const until = (check: (text: string) => boolean, timeoutMs = 5000): Promise<void> =>
          wait(() => check(received), timeoutMs);
        resolve({
          response: res,
          untilTail: (check, timeoutMs = 5000) => wait(() => check(tail), timeoutMs),
          text: () => received,
          events: () => parseSse(received).events,
          comments: () => parseSse(received).comments,
          until,
          waitForEvents: async (count, timeoutMs) => {
            await until((text) => parseSse(text).events.length >= count, timeoutMs);
            return parseSse(received).events;
          },
          close: () => req.destroy(),
        });
      },
    );
    req.on('error', reject);
    req.end();
  });
}

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface Exposition {
  readonly types: ReadonlyMap<string, string>;
  readonly samples: readonly Sample[];
  /** The value of one series; undefined when absent. */
  value(name: string, labels?: Record<string, string>): number | undefined;
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const SAMPLE_LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+-?\d+)?$/;
const LABEL_PAIR = /\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*(?:,|$)/y;

function parseValue(text: string): number {
  // Prometheus parses values with Go's ParseFloat: Inf and NaN in any case.
  if (/^\+?inf$/i.test(text)) return Infinity;
  if (/^-inf$/i.test(text)) return -Infinity;
  if (/^nan$/i.test(text)) return Number.NaN;
  const value = Number(text);
  if (Number.isNaN(value)) throw new Error(`bad sample value ${text}`);
  return value;
}

/**
 * A strict parser of the Prometheus text format (0.0.4): every line must be a
 * HELP/TYPE comment or a well-formed sample; anything else throws.
 */
export function parsePrometheus(text: string): Exposition {
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  for (const [index, line] of text.split('\n').entries()) {
    if (line.trim() === '') continue;
    if (line.startsWith('#')) {
      const match = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
      if (!match) continue; // other comments are allowed
      const [, kind, name = '', rest = ''] = match;
      if (!METRIC_NAME.test(name)) throw new Error(`line ${index + 1}: bad metric name ${name}`);
      if (kind === 'TYPE') {
        if (!['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(rest)) {
          throw new Error(`line ${index + 1}: bad type ${rest}`);
        }
        types.set(name, rest);
      }
      continue;
    }
    const match = SAMPLE_LINE.exec(line);
    if (!match) throw new Error(`line ${index + 1}: not a sample: ${line}`);
    const [, name = '', labelText = '', valueText = ''] = match;
    const labels: Record<string, string> = {};
    LABEL_PAIR.lastIndex = 0;
    while (LABEL_PAIR.lastIndex < labelText.length) {
      const pair = LABEL_PAIR.exec(labelText);
      if (!pair) throw new Error(`line ${index + 1}: bad labels {${labelText}}`);
      labels[pair[1] ?? ''] = (pair[2] ?? '').replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    }
    samples.push({ name, labels, value: parseValue(valueText) });
  }
  return {
    types,
    samples,
    value: (name, labels = {}) =>
      samples.find(
        (s) =>
          s.name === name &&
          Object.keys(labels).length === Object.keys(s.labels).length &&
          Object.entries(labels).every(([k, v]) => s.labels[k] === v),
      )?.value,
  };
}
