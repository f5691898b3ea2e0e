import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MessageList, MessageView, QueueList } from '../../src/http/api-types.js';
import type { AuditEvent } from '../../src/domain/audit.js';
import type { MessageRecord } from '../../src/domain/envelope.js';
import { request, startHarness, storeMessage, type Harness } from './helpers.js';

let harness: Harness;
let deferred: MessageRecord;
let delivered: MessageRecord;
const BODY = 'Subject: hello\r\nMessage-ID: <1@example.test>\r\n\r\nHello Bob.\r\n';
const NEXT = Date.UTC(2030, 0, 1);

beforeEach(async () => {
  harness = await startHarness();
  deferred = await storeMessage(harness.spool, BODY);
  await harness.spool.update(deferred.id, [
    {
      recipient: 'Bob@example.test',
      status: 'deferred',
      attempts: 2,
      nextAttemptAt: NEXT,
      lastResponse: '451 4.7.1 try later',
    },
  ]);
  delivered = await storeMessage(harness.spool, 'Subject: done\r\n\r\nx\r\n', { recipients: ['dave@example.test'] });
  await harness.spool.update(delivered.id, [
    { recipient: 'dave@example.test', status: 'delivered', attempts: 1, nextAttemptAt: 0, lastResponse: '250 ok' },
  ]);
});
afterEach(async () => {
  await harness.close();
});

describe('GET /api/queue', () => {
  it('lists recipients not finished, with their state', async () => {
    const res = await request(`${harness.url}/api/queue`);
    expect(res.status).toBe(200);
    const list = res.json<QueueList>();
    expect(list.count).toBe(2);
    expect(list.depth).toBe(2);
    expect(list.next).toBeUndefined();
    expect(list.recipients).toEqual([
      {
        id: deferred.id,
        recipient: 'Bob@example.test',
        status: 'deferred',
        attempts: 2,
        nextAttemptAt: new Date(NEXT).toISOString(),
        lastResponse: '451 4.7.1 try later',
        sender: 'alice@example.test',
        receivedAt: '2026-01-02T03:04:05.000Z',
        size: deferred.size,
      },
      expect.objectContaining({
        id: deferred.id,
        recipient: 'carol@example.test',
        status: 'queued',
        lastResponse: null,
      }),
    ]);
  });
});

describe('POST /api/queue/flush and /api/queue/:id/retry', () => {
  it('make deferred recipients due now', async () => {
    const flush = await request(`${harness.url}/api/queue/flush`, { method: 'POST' });
    expect(flush.status).toBe(200);
    expect(flush.json()).toEqual({ retried: 1 });
    // the next claim takes Bob with the rest, years before his recorded next attempt
    const claimed = await harness.spool.claim(Date.now(), 100);
    const message = claimed.find((c) => c.record.id === deferred.id);
    expect(message?.due.map((r) => r.recipient)).toContain('Bob@example.test');
    for (const c of claimed) await harness.spool.release(c.record.id);

    await harness.spool.update(deferred.id, [
      { recipient: 'Bob@example.test', status: 'deferred', attempts: 3, nextAttemptAt: NEXT, lastResponse: '451' },
    ]);
    const retry = await request(`${harness.url}/api/queue/${deferred.id}/retry`, { method: 'POST' });
    expect(retry.status).toBe(200);
    expect(retry.json()).toEqual({ id: deferred.id, retried: 1 });
  });

  it('answer 404 for an unknown id, 400 for a malformed one, 409 for a finished message', async () => {
    const unknown = await request(`${harness.url}/api/queue/${'0'.repeat(20)}/retry`, { method: 'POST' });
    expect(unknown.status).toBe(404);
    expect(unknown.json()).toEqual({ error: 'no such message' });
    for (const bad of ['short', 'UPPERCASE0123456789A', '..%2F..%2Fetc%2Fpasswd', `${deferred.id}x`]) {
      const res = await request(`${harness.url}/api/queue/${bad}/retry`, { method: 'POST' });
      expect(res.status, bad).toBe(400);
      expect(res.json()).toEqual({ error: 'invalid message id' });
    }
    const finished = await request(`${harness.url}/api/queue/${delivered.id}/retry`, { method: 'POST' });
    expect(finished.status).toBe(409);
  });
});

describe('DELETE /api/queue/:id', () => {
  it('removes the message; a second delete is 404', async () => {
    const events: AuditEvent[] = [];
    const tap = harness.audit.raw$.subscribe((e) => events.push(e));
    const res = await request(`${harness.url}/api/queue/${deferred.id}`, { method: 'DELETE' });
    tap.unsubscribe();
    // the mail log's `removed` line comes from this event
    expect(events).toContainEqual({ type: 'message.removed', id: deferred.id, reason: 'deleted' });
    expect(res.status).toBe(200);
    expect(res.json()).toEqual({ id: deferred.id, removed: true });
    expect(await harness.spool.get(deferred.id)).toBeUndefined();
    expect((await request(`${harness.url}/api/queue/${deferred.id}`, { method: 'DELETE' })).status).toBe(404);
    expect((await request(`${harness.url}/api/queue/nope`, { method: 'DELETE' })).status).toBe(400);
  });
});

describe('/api/messages', () => {
  it('lists every stored message, finished ones included', async () => {
    const list = (await request(`${harness.url}/api/messages`)).json<MessageList>();
    expect(list.count).toBe(2);
    expect(list.messages.map((m) => m.id).sort()).toEqual([deferred.id, delivered.id].sort());
  });

  it('shows one message with per-recipient state', async () => {
    const res = await request(`${harness.url}/api/messages/${deferred.id}`);
    expect(res.status).toBe(200);
    const view = res.json<MessageView>();
    expect(view).toMatchObject({
      id: deferred.id,
      sender: 'alice@example.test',
      clientAddress: '127.0.0.1',
      heloName: 'client.example.test',
      user: null,
      receivedAt: '2026-01-02T03:04:05.000Z',
    });
    expect(view.recipients.map((r) => [r.recipient, r.status, r.attempts])).toEqual([
      ['Bob@example.test', 'deferred', 2],
      ['carol@example.test', 'queued', 0],
    ]);
    expect((await request(`${harness.url}/api/messages/${'v'.repeat(20)}`)).status).toBe(404);
    expect((await request(`${harness.url}/api/messages/bad!id`)).status).toBe(400);
  });

  it('streams the raw stored bytes', async () => {
    const res = await request(`${harness.url}/api/messages/${deferred.id}/raw`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('message/rfc822');
    expect(res.text.endsWith(BODY)).toBe(true);
    expect(Buffer.byteLength(res.text)).toBe(deferred.size);
    expect((await request(`${harness.url}/api/messages/${'v'.repeat(20)}/raw`)).status).toBe(404);
  });
});
