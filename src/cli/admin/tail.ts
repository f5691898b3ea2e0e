/**
 * `gopherpost tail`: the daemon's audit stream (`GET /audit`, Server-Sent
 * Events), one readable line per event, or the raw JSON with `--json`.
 *
 * In: the admin connection (URL, token), an abort signal (SIGINT/SIGTERM in
 * the CLI) and where lines and notices go. Out: lines on `io.out`; notices
 * (audit logging off and how to switch it on, connection lost, reconnected)
 * on `notice`. After a dropped connection it reconnects with
 * `Last-Event-ID`, so the daemon replays what was missed. Resolves when the
 * signal aborts; rejects with a CliError when the first connection fails
 * or the token is refused.
 */
import { Command } from 'commander';
import type { AuditRecord } from '../../domain/audit.js';
import { CliError, EXIT } from './errors.js';
import { addConnectionOptions, connectionOf, type AdminEnv } from './connection.js';
import type { CliIo } from './output.js';
import { SseParser, type SseItem } from './sse.js';

export interface TailOptions {
  /** e.g. `http://127.0.0.1:8080` */
  readonly baseUrl: string;
  readonly token?: string | undefined;
  readonly json: boolean;
  readonly signal: AbortSignal;
  readonly io: CliIo;
  readonly notice: (text: string) => void;
  /** No byte (not even a heartbeat, sent every 15 s) for this long: the connection is dead. Default 45 s. */
  readonly idleMs?: number;
}

const PLAIN = /^[\w.@:+\-/<>[\],]+$/;

function text(v: string): string {
  return PLAIN.test(v) ? v : JSON.stringify(v);
}

/** `key=value` pairs: a list joined with commas, an object's fields as `key.field=value`, quoted when needed. */
function pairs(key: string, v: unknown): string[] {
  if (Array.isArray(v))
    return [`${key}=${text(v.map((x) => (typeof x === 'string' ? x : JSON.stringify(x))).join(','))}`];
  if (typeof v === 'object' && v !== null) return Object.entries(v).flatMap(([k, x]) => pairs(`${key}.${k}`, x));
  if (typeof v === 'string') return [`${key}=${text(v)}`];
  return [`${key}=${typeof v === 'number' || typeof v === 'boolean' ? String(v) : text(String(v))}`];
}

/** `<time> <type> key=value …`: the record's own fields in their order, values quoted when they need it. */
export function formatTailLine(record: Partial<AuditRecord> & Record<string, unknown>): string {
  const fields = Object.entries(record)
    .filter(([key]) => key !== 'seq' && key !== 'time' && key !== 'type')
    .flatMap(([key, v]) => pairs(key, v));
  return [String(record.time ?? '-'), String(record.type ?? '?'), ...fields].join(' ') + '\n';
}

/** What to do when audit logging is off on the daemon. */
export function auditOffNotice(baseUrl: string): string {
  return (
    'audit logging is off on the daemon: no events will show until it is switched on, either at run time with\n' +
    `  curl -X PUT -H 'content-type: application/json' -d '{"enabled":true}' ${baseUrl}/api/audit\n` +
    "  (add -H 'authorization: Bearer <SMTP_ADMIN_TOKEN>' when a token is set)\n" +
    '  or by starting the daemon with SMTP_DEBUG=true. Waiting for events…'
  );
}

function describe(error: unknown): string {
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : undefined;
  return cause ?? (error instanceof Error ? error.message : String(error));
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/** Follows the audit stream until `signal` aborts. */
export async function followAudit(options: TailOptions): Promise<void> {
  const base = options.baseUrl.replace(/\/+$/, '');
  const state = { lastId: undefined as string | undefined, retryMs: 3000, connected: false };
  while (!options.signal.aborted) {
    const outcome = await followOnce(base, options, state);
    if (options.signal.aborted) return;
    options.notice(`${outcome}; reconnecting in ${state.retryMs / 1000} s`);
    await pause(state.retryMs, options.signal);
  }
}

interface FollowState {
  lastId: string | undefined;
  retryMs: number;
  connected: boolean;
}

/** One connection: resolves with why it ended (to reconnect), rejects when reconnecting makes no sense. */
async function followOnce(base: string, options: TailOptions, state: FollowState): Promise<string> {
  const connection = new AbortController();
  const signal = AbortSignal.any([options.signal, connection.signal]);
  const headers: Record<string, string> = { accept: 'text/event-stream' };
  if (options.token) headers['authorization'] = `Bearer ${options.token}`;
  if (state.lastId !== undefined) headers['last-event-id'] = state.lastId;
  let response: Response;
  try {
    response = await fetch(`${base}/audit`, { headers, signal });
  } catch (error) {
    if (!state.connected && !options.signal.aborted)
      throw new CliError(`cannot reach the daemon at ${base}: ${describe(error)}`, EXIT.unavailable);
    return `cannot reach the daemon at ${base}: ${describe(error)}`;
  }
  if (response.status === 401 || response.status === 403)
    throw new CliError(
      `${base}/audit: ${response.status}${response.status === 401 ? " (set SMTP_ADMIN_TOKEN to the daemon's token)" : ''}`,
      EXIT.noPermission,
    );
  if (!response.ok || !response.body) {
    await response.body?.cancel();
    if (!state.connected) throw new CliError(`${base}/audit: ${response.status} ${response.statusText}`);
    return `${base}/audit answered ${response.status}`;
  }
  if (state.connected) options.notice(`reconnected${state.lastId ? `, resuming after event ${state.lastId}` : ''}`);
  state.connected = true;
  return readStream(response.body, { base, options, state, connection });
}

async function readStream(
  body: ReadableStream<Uint8Array>,
  ctx: { base: string; options: TailOptions; state: FollowState; connection: AbortController },
): Promise<string> {
  const { options, state, connection } = ctx;
  const parser = new SseParser();
  const decoder = new TextDecoder();
  const idleMs = options.idleMs ?? 45_000;
  let idle = setTimeout(() => connection.abort(), idleMs);
  try {
    for await (const chunk of body) {
      clearTimeout(idle);
      idle = setTimeout(() => connection.abort(), idleMs);
      for (const item of parser.push(decoder.decode(chunk, { stream: true }))) handle(item, ctx.base, options, state);
    }
    return 'the daemon closed the audit stream';
  } catch (error) {
    if (connection.signal.aborted && !options.signal.aborted) return `no data for ${idleMs / 1000} s`;
    return `connection lost (${describe(error)})`;
  } finally {
    clearTimeout(idle);
  }
}

function handle(item: SseItem, base: string, options: TailOptions, state: FollowState): void {
  if (item.kind === 'retry') state.retryMs = Math.min(Math.max(item.ms, 100), 60_000);
  else if (item.kind === 'comment') {
    if (/audit logging off/.test(item.text)) options.notice(auditOffNotice(base));
  } else {
    if (item.id !== undefined) state.lastId = item.id;
    let record: Record<string, unknown>;
    try {
      record = JSON.parse(item.data) as Record<string, unknown>;
    } catch {
      options.notice(`skipped an event that is not JSON: ${item.data.slice(0, 200)}`);
      return;
    }
    options.io.out(options.json ? JSON.stringify(record) + '\n' : formatTailLine(record));
    if (record['type'] === 'config' && record['key'] === 'audit' && record['value'] === 'off')
      options.notice(auditOffNotice(base));
  }
}

/** Where `tail` gets its stop signal: SIGINT/SIGTERM in the CLI; tests pass their own. */
export type StopSignal = () => { signal: AbortSignal; release: () => void };

export const processStopSignal: StopSignal = () => {
  const controller = new AbortController();
  const stop = (): void => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return {
    signal: controller.signal,
    release: () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    },
  };
};

/** `gopherpost tail [--json]` on a running daemon's audit stream. */
export function tailCommand(env: AdminEnv, io: CliIo, stopSignal: StopSignal = processStopSignal): Command {
  const tail = addConnectionOptions(
    new Command('tail').description("follow a running daemon's audit stream, one line per event (Ctrl-C stops)"),
    env,
  );
  return tail
    .addHelpText(
      'after',
      '\nReads GET /audit (Server-Sent Events) of a running daemon (SMTP_HEALTH_ADDR, SMTP_ADMIN_TOKEN) and\n' +
        'reconnects after a dropped connection without losing events the daemon still holds (Last-Event-ID).\n' +
        'Events appear while audit logging is on (SMTP_DEBUG=true, or PUT /api/audit at run time).\n' +
        'Examples:\n  gopherpost tail\n  gopherpost tail --json | jq -c \'select(.type == "delivery.outcome")\'',
    )
    .action(async (_options: unknown, command: Command) => {
      const { baseUrl, token, json } = connectionOf(command, env);
      const { signal, release } = stopSignal();
      try {
        await followAudit({ baseUrl, token, json, signal, io, notice: (text) => io.err(`gopherpost tail: ${text}\n`) });
      } finally {
        release();
      }
    });
}
