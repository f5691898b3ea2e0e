/**
 * smtp-server's command log as audit events.
 *
 * Owns: the pairing of each client command with the reply it got.
 * In:   smtp-server's logger calls (`C:` command lines, `S:` replies, closes),
 *       through the logger set on the server (patches.ts, `useCommandLogger`).
 * Out:  `command` audit events while auditing is on; smtp-server's error lines
 *       to `onError`.
 */
import { format } from 'node:util';
import type { AuditEvent } from '../domain/audit.js';

export interface AuditSink {
  publish(event: AuditEvent): void;
  isEnabled(): boolean;
}

interface LogMeta {
  readonly tnx?: string;
  readonly cid?: string;
  readonly command?: string;
}

type LogFn = (meta: LogMeta | string, ...args: unknown[]) => void;

/**
 * A logger for smtp-server's `logger` option that turns its command log
 * (`C:` lines, credentials already redacted, and `S:` replies) into `command`
 * audit events: each command with the reply code it got. Costs nothing while
 * audit logging is off. smtp-server's own error lines (mostly clients that
 * hang up) go to `onError`.
 */
export function commandAuditLogger(
  audit: AuditSink,
  onError: (message: string) => void,
): Record<'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal', LogFn> & { child: () => unknown } {
  const lastCommand = new Map<string, string>();
  const noop: LogFn = () => undefined;
  const debug: LogFn = (meta, _format, line) => {
    if (typeof meta !== 'object' || !meta.cid || !audit.isEnabled()) return;
    if (meta.tnx === 'command' && typeof line === 'string') {
      lastCommand.set(meta.cid, line.length > 200 ? `${line.slice(0, 200)}…` : line);
    } else if (meta.tnx === 'send' && typeof line === 'string') {
      const command = lastCommand.get(meta.cid) ?? '(greeting)';
      const reply = Number(line.slice(0, 3));
      if (reply === 354) lastCommand.set(meta.cid, '<end of data>');
      else lastCommand.delete(meta.cid);
      audit.publish({ type: 'command', session: meta.cid, command, reply: Number.isFinite(reply) ? reply : 0 });
    }
  };
  const logger = {
    trace: noop,
    debug,
    info: (meta: LogMeta | string) => {
      if (typeof meta === 'object' && meta.tnx === 'close' && meta.cid) lastCommand.delete(meta.cid);
    },
    warn: noop,
    error: (_meta: LogMeta | string, message?: unknown, ...args: unknown[]) => {
      onError(format(String(message), ...args));
    },
    fatal: noop,
    child: () => logger,
  };
  return logger;
}
