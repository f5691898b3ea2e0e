import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createAuditBus } from '../../src/audit/bus.js';
import { logAudit } from '../../src/log/audit-log.js';
import { createLogger } from '../../src/log/logger.js';

function capture(): { sink: Writable; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString('utf8'));
      done();
    },
  });
  return {
    sink,
    lines: () =>
      chunks
        .join('')
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

describe('createLogger', () => {
  it('writes JSON lines with ISO time and a level label, honouring the level', () => {
    const { sink, lines } = capture();
    const logger = createLogger('warn', sink);
    logger.info('hidden');
    logger.warn({ port: 25 }, 'shown');
    expect(lines()).toEqual([expect.objectContaining({ level: 'warn', msg: 'shown', port: 25, pid: process.pid })]);
    expect(new Date(String(lines()[0]?.['time'])).toISOString()).toBe(lines()[0]?.['time']);
  });
});

describe('logAudit', () => {
  it('logs each audit record while audit logging is on, nothing while it is off', () => {
    const { sink, lines } = capture();
    const bus = createAuditBus({ enabled: true, replay: 0 });
    logAudit(createLogger('info', sink), bus.events$);
    bus.publish({ type: 'session.start', session: 's1', client: '127.0.0.1' });
    bus.setEnabled(false);
    bus.publish({ type: 'session.close', session: 's1', client: '127.0.0.1' });
    expect(lines().map((l) => [l['msg'], l['component'], (l['audit'] as { type: string }).type])).toEqual([
      ['audit', 'audit', 'session.start'],
      ['audit', 'audit', 'config'],
    ]);
  });
});
