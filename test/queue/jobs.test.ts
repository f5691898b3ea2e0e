import { describe, expect, it } from 'vitest';
import type { ClaimedMessage } from '../../src/domain/delivery.js';
import type { MessageRecord, RecipientState } from '../../src/domain/envelope.js';
import { splitIntoJobs, type SplitOptions } from '../../src/queue/jobs.js';

const waiting = (recipient: string): RecipientState => ({
  recipient,
  status: 'queued',
  attempts: 0,
  nextAttemptAt: 0,
  updatedAt: 0,
});

/** A claimed message whose due recipients are `rcpts`, in RCPT order. */
function claimed(rcpts: readonly string[]): ClaimedMessage {
  const due = rcpts.map(waiting);
  const record: MessageRecord = {
    id: 'm1',
    envelope: { sender: 's@sender.test', recipients: rcpts, clientAddress: '127.0.0.1', heloName: 'c', receivedAt: 0 },
    size: 1,
    recipients: due,
  };
  return { record, due };
}

const mx: SplitOptions = { groupOf: (domain) => domain, recipientLimit: 50 };
/** Relay mode as the scheduler sets it up: one job for the relay, rated domains their own. */
const relay = (rated: readonly string[], recipientLimit = 50): SplitOptions => ({
  groupOf: (d) => (rated.includes(d) ? d : ''),
  recipientLimit,
});

/** Each job as `domain: rcpt rcpt …`. */
const shape = (m: ClaimedMessage, o: SplitOptions): string[] =>
  splitIntoJobs(m, o).map((j) => `${j.domain}: ${j.recipients.map((r) => r.recipient).join(' ')}`);

describe('splitIntoJobs', () => {
  it.each<[string, string[], SplitOptions, string[]]>([
    ['one recipient: one job', ['a@x.test'], mx, ['x.test: a@x.test']],
    [
      'MX mode: one job per domain, domains in order of first appearance, RCPT order kept within',
      ['a@x.test', 'b@y.test', 'c@x.test', 'd@z.test', 'e@y.test'],
      mx,
      ['x.test: a@x.test c@x.test', 'y.test: b@y.test e@y.test', 'z.test: d@z.test'],
    ],
    [
      'domains compare case-insensitively; each address keeps its case, the job domain is lower-case',
      ['Ann@X.Test', 'bob@x.test', 'Cy@x.TEST'],
      mx,
      ['x.test: Ann@X.Test bob@x.test Cy@x.TEST'],
    ],
    [
      'relay mode: one job for the whole message',
      ['a@x.test', 'b@y.test', 'c@z.test'],
      relay([]),
      [': a@x.test b@y.test c@z.test'],
    ],
    [
      'relay mode: a domain with its own rate limit is split out',
      ['a@x.test', 'b@rated.test', 'c@z.test', 'd@Rated.Test'],
      relay(['rated.test']),
      [': a@x.test c@z.test', 'rated.test: b@rated.test d@Rated.Test'],
    ],
    [
      'relay mode: a rated domain first keeps its place',
      ['b@rated.test', 'a@x.test'],
      relay(['rated.test']),
      ['rated.test: b@rated.test', ': a@x.test'],
    ],
  ])('%s', (_, rcpts, options, jobs) => {
    expect(shape(claimed(rcpts), options)).toEqual(jobs);
  });

  it('the recipient limit splits 120 recipients of one domain into 50, 50 and 20, in order', () => {
    const rcpts = Array.from({ length: 120 }, (_, i) => `r${i}@x.test`);
    const jobs = splitIntoJobs(claimed(rcpts), mx);
    expect(jobs.map((j) => j.recipients.length)).toEqual([50, 50, 20]);
    expect(jobs.flatMap((j) => j.recipients.map((r) => r.recipient))).toEqual(rcpts);
    expect(new Set(jobs.map((j) => j.domain))).toEqual(new Set(['x.test']));
  });

  it('the limit applies per domain, and to the relay job', () => {
    const rcpts = ['a1@x.test', 'b1@y.test', 'a2@x.test', 'a3@x.test', 'b2@y.test'];
    expect(shape(claimed(rcpts), { ...mx, recipientLimit: 2 })).toEqual([
      'x.test: a1@x.test a2@x.test',
      'x.test: a3@x.test',
      'y.test: b1@y.test b2@y.test',
    ]);
    expect(shape(claimed(rcpts), relay([], 2))).toEqual([
      ': a1@x.test b1@y.test',
      ': a2@x.test a3@x.test',
      ': b2@y.test',
    ]);
  });

  it('a limit below 1 counts as 1', () => {
    expect(shape(claimed(['a@x.test', 'b@x.test']), { ...mx, recipientLimit: 0 })).toEqual([
      'x.test: a@x.test',
      'x.test: b@x.test',
    ]);
  });

  it('every job carries the claimed record', () => {
    const m = claimed(['a@x.test', 'b@y.test']);
    for (const job of splitIntoJobs(m, mx)) expect(job.record).toBe(m.record);
  });

  it('only due recipients become jobs', () => {
    const m = claimed(['a@x.test', 'b@y.test']);
    const onlyB: ClaimedMessage = { record: m.record, due: m.due.slice(1) };
    expect(shape(onlyB, mx)).toEqual(['y.test: b@y.test']);
  });
});
