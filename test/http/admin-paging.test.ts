import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MessageList, QueueList, QueueShapeView } from '../../src/http/api-types.js';
import type { MessageRecord } from '../../src/domain/envelope.js';
import { request, startHarness, storeMessage, type Harness } from './helpers.js';

const MINUTE = 60_000;

/** Five waiting messages, oldest first: minutes old, recipients. */
const FIXTURE: readonly [number, readonly string[]][] = [
  [200, ['x@one.test']],
  [30, ['a@one.test', 'b@one.test', 'c@two.test']],
  [12, ['d@two.test']],
  [3, ['e@one.test']],
  [1, ['f@one.test', 'g@two.test']],
];

let harness: Harness;
let stored: MessageRecord[];

beforeEach(async () => {
  harness = await startHarness({ auditEnabled: false });
  const now = Date.now();
  stored = [];
  for (const [minutes, recipients] of FIXTURE) {
    stored.push(
      await storeMessage(harness.spool, 'Subject: paging\r\n\r\nx\r\n', {
        recipients: [...recipients],
        receivedAt: now - minutes * MINUTE,
      }),
    );
  }
});
afterEach(async () => {
  await harness.close();
});

async function getJson<T>(path: string): Promise<T> {
  const res = await request(`${harness.url}${path}`);
  expect(res.status, `${path}: ${res.text}`).toBe(200);
  return res.json<T>();
}

describe('GET /api/messages paging', () => {
  it('walks five messages two at a time: three pages, the last without next', async () => {
    const first = await getJson<MessageList>('/api/messages?limit=2');
    expect(first.count).toBe(2);
    expect(first.messages.map((m) => m.id)).toEqual([stored[0]?.id, stored[1]?.id]);
    expect(first.next).toEqual(expect.any(String));

    const second = await getJson<MessageList>(`/api/messages?limit=2&after=${encodeURIComponent(first.next ?? '')}`);
    expect(second.messages.map((m) => m.id)).toEqual([stored[2]?.id, stored[3]?.id]);
    expect(second.next).toEqual(expect.any(String));

    const third = await getJson<MessageList>(`/api/messages?limit=2&after=${encodeURIComponent(second.next ?? '')}`);
    expect(third).toEqual({ count: 1, messages: [expect.objectContaining({ id: stored[4]?.id })] });
    expect('next' in third).toBe(false);
  });

  it('lists finished messages too; without limit, up to 100 on one page', async () => {
    const done = stored[0] as MessageRecord;
    await harness.spool.update(done.id, [
      { recipient: 'x@one.test', status: 'delivered', attempts: 1, nextAttemptAt: 0, lastResponse: '250 ok' },
    ]);
    const all = await getJson<MessageList>('/api/messages');
    expect(all.count).toBe(5);
    expect(all.messages.map((m) => m.id)).toEqual(stored.map((m) => m.id));
    expect(all.next).toBeUndefined();
  });
});

describe('GET /api/queue paging', () => {
  it('turns each page of waiting messages into one entry per waiting recipient, with the depth of the whole queue', async () => {
    const first = await getJson<QueueList>('/api/queue?limit=2');
    expect(first.depth).toBe(8);
    expect(first.count).toBe(4);
    expect(first.recipients.map((e) => [e.id, e.recipient])).toEqual([
      [stored[0]?.id, 'x@one.test'],
      [stored[1]?.id, 'a@one.test'],
      [stored[1]?.id, 'b@one.test'],
      [stored[1]?.id, 'c@two.test'],
    ]);

    const second = await getJson<QueueList>(`/api/queue?after=${first.next ?? ''}&limit=2`);
    expect(second).toMatchObject({ count: 2, depth: 8, next: expect.any(String) });
    expect(second.recipients.map((e) => e.recipient)).toEqual(['d@two.test', 'e@one.test']);

    const third = await getJson<QueueList>(`/api/queue?limit=2&after=${second.next ?? ''}`);
    expect(third).toMatchObject({ count: 2, depth: 8 });
    expect(third.recipients.map((e) => e.recipient)).toEqual(['f@one.test', 'g@two.test']);
    expect(third.next).toBeUndefined();
  });

  it('leaves out messages with nothing waiting, and finished recipients', async () => {
    await harness.spool.update(stored[0]?.id ?? '', [
      { recipient: 'x@one.test', status: 'bounced', attempts: 1, nextAttemptAt: 0, lastResponse: '550 no' },
    ]);
    await harness.spool.update(stored[1]?.id ?? '', [
      { recipient: 'b@one.test', status: 'delivered', attempts: 1, nextAttemptAt: 0, lastResponse: '250 ok' },
    ]);
    const list = await getJson<QueueList>('/api/queue?limit=1');
    expect(list).toMatchObject({ count: 2, depth: 6, next: expect.any(String) });
    expect(list.recipients.map((e) => e.recipient)).toEqual(['a@one.test', 'c@two.test']);
  });
});

describe('bad paging parameters', () => {
  it.each([
    ['limit=0', 'limit="0": expected an integer from 1 to 1000'],
    ['limit=abc', 'limit="abc": expected an integer from 1 to 1000'],
    ['limit=1001', 'limit="1001": expected an integer from 1 to 1000'],
    ['limit=1.5', 'limit="1.5": expected an integer from 1 to 1000'],
    ['limit=-1', 'limit="-1": expected an integer from 1 to 1000'],
    ['limit=', 'limit="": expected an integer from 1 to 1000'],
    ['limit=1&limit=2', 'limit: expected one value, got 2'],
    ['after=nonsense', 'after="nonsense": expected the "next" cursor of a previous GET /api/{listing} page'],
    ['after=', 'after="": expected the "next" cursor of a previous GET /api/{listing} page'],
    ['after=zzzz.zzzz', 'after="zzzz.zzzz": expected the "next" cursor of a previous GET /api/{listing} page'],
  ])('%s answers 400 naming the parameter', async (query, message) => {
    for (const listing of ['queue', 'messages']) {
      const res = await request(`${harness.url}/api/${listing}?${query}`);
      expect(res.status, `${listing}?${query}`).toBe(400);
      expect(res.json()).toEqual({ error: message.replace('{listing}', listing) });
    }
  });

  it('refuses a cursor that was cut short, changed, or handed out by the other listing', async () => {
    const queueNext = (await getJson<QueueList>('/api/queue?limit=1')).next ?? '';
    const messagesNext = (await getJson<MessageList>('/api/messages?limit=1')).next ?? '';
    const changed = (queueNext.startsWith('A') ? 'B' : 'A') + queueNext.slice(1);
    for (const [path, cursor] of [
      ['/api/queue', queueNext.slice(0, -1)],
      ['/api/queue', changed],
      ['/api/queue', messagesNext],
      ['/api/messages', queueNext],
    ] as const) {
      const res = await request(`${harness.url}${path}?after=${encodeURIComponent(cursor)}`);
      expect(res.status, `${path} ${cursor}`).toBe(400);
      expect(res.json<{ error: string }>().error).toMatch(/^after=".*": expected the "next" cursor/);
    }
  });
});

describe('GET /api/queue/shape', () => {
  it('counts waiting recipients per destination domain in age buckets', async () => {
    const shape = await getJson<QueueShapeView>('/api/queue/shape');
    expect(shape).toEqual({
      buckets: [5, 10, 20, 40, 80, 160, 320, 640, 1280],
      //                   <5 <10 <20 <40 <80 <160 <320 <640 <1280 1280+
      total: { total: 8, counts: [3, 0, 1, 3, 0, 0, 1, 0, 0, 0] },
      rows: [
        { domain: 'one.test', total: 5, counts: [2, 0, 0, 2, 0, 0, 1, 0, 0, 0] },
        { domain: 'two.test', total: 3, counts: [1, 0, 1, 1, 0, 0, 0, 0, 0, 0] },
      ],
      domains: 2,
    });
  });

  it('?top=N keeps the N largest rows; the total still counts every domain', async () => {
    const shape = await getJson<QueueShapeView>('/api/queue/shape?top=1');
    expect(shape.rows.map((r) => r.domain)).toEqual(['one.test']);
    expect(shape.total.total).toBe(8);
    expect(shape.domains).toBe(2);
    for (const top of ['0', 'x', '1001']) {
      const res = await request(`${harness.url}/api/queue/shape?top=${top}`);
      expect(res.status).toBe(400);
      expect(res.json()).toEqual({ error: `top="${top}": expected an integer from 1 to 1000` });
    }
  });

  it('drops recipients once they are finished', async () => {
    await harness.spool.update(stored[1]?.id ?? '', [
      { recipient: 'c@two.test', status: 'delivered', attempts: 1, nextAttemptAt: 0, lastResponse: '250 ok' },
    ]);
    const shape = await getJson<QueueShapeView>('/api/queue/shape');
    expect(shape.rows.find((r) => r.domain === 'two.test')).toEqual({
      domain: 'two.test',
      total: 2,
      counts: [1, 0, 1, 0, 0, 0, 0, 0, 0, 0],
    });
    expect(shape.total.total).toBe(7);
  });
});
