import { defer, throwError, timer, mergeMap } from 'rxjs';
import type { Observable } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { attemptDelivery, tryTargets } from '../../src/delivery/attempt.js';
import type { AttemptOptions, DialTarget } from '../../src/delivery/attempt.js';
import { TransportError } from '../../src/delivery/transport.js';
import type { SendResult } from '../../src/delivery/transport.js';

function scheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

const target = (name: string): DialTarget => ({ host: name, port: 25, label: name });
const refused = (name: string) =>
  new TransportError({ kind: 'deferred', scope: 'host', response: '4.4.1 connect ECONNREFUSED' }, name);
const banner554 = (name: string) =>
  new TransportError({ kind: 'failed', scope: 'host', response: '554 5.7.1 go away' }, name);
const delivered = (to: readonly string[]): SendResult => ({
  reused: false,
  recipients: to.map((recipient) => ({ recipient, outcome: { kind: 'delivered', response: '250 ok' } })),
});

function options(send: (t: DialTarget) => Observable<SendResult>, dialled: string[]): AttemptOptions {
  return {
    resolve: () => Promise.reject(new Error('not used')),
    send: (t) => {
      dialled.push(t.label);
      return send(t);
    },
    port: 25,
    maxTargets: 5,
    retryBaseMs: 100,
    retryMaxMs: 1_000,
    random: () => 0,
  };
}

/** Fails after `ms` of virtual time (a refused connection takes a moment). */
const failAfter = (ms: number, err: Error) => timer(ms).pipe(mergeMap(() => throwError(() => err)));

describe('tryTargets: the quick kind of waiting', () => {
  it('moves to the next host after a host failure, waiting 100 ms then 200 ms (jittered doubling)', () => {
    const dialled: string[] = [];
    scheduler().run(({ expectObservable }) => {
      const send = (t: DialTarget) =>
        t.host === 'mx3' ? timer(5).pipe(mergeMap(() => [delivered(['r@x.test'])])) : failAfter(10, refused(t.host));
      const out$ = tryTargets([target('mx1'), target('mx2'), target('mx3')], ['r@x.test'], options(send, dialled));
      // mx1 fails at 10, wait 100 → mx2 at 110 fails at 120, wait 200 → mx3 at 320 answers at 325
      expectObservable(out$).toBe('325ms (a|)', {
        a: {
          outcomes: new Map([['r@x.test', { kind: 'delivered', response: '250 ok' }]]),
          answered: true,
          relay: 'mx3', // the host that answered, for the mail log
          remoteMta: 'mx3', // and its name, for a DSN
        },
      });
    });
    expect(dialled).toEqual(['mx1', 'mx2', 'mx3']);
  });

  it('redials a single host once, then defers with the last response', () => {
    const dialled: string[] = [];
    scheduler().run(({ expectObservable }) => {
      const out$ = tryTargets(
        [target('mx1')],
        ['r@x.test'],
        options((t) => failAfter(10, refused(t.host)), dialled),
      );
      // no host gave a verdict: the destination hears it was unreachable
      expectObservable(out$).toBe('120ms (a|)', {
        a: {
          outcomes: new Map([['r@x.test', { kind: 'deferred', response: '4.4.1 connect ECONNREFUSED (mx1)' }]]),
          unreachable: '4.4.1 connect ECONNREFUSED (mx1)',
          relay: 'mx1',
          remoteMta: 'mx1',
        },
      });
    });
    expect(dialled).toEqual(['mx1', 'mx1']);
  });

  it('fails only when every host refused permanently; one temporary failure defers', () => {
    scheduler().run(({ expectObservable }) => {
      const allBanned = tryTargets(
        [target('a'), target('b')],
        ['r@x.test'],
        options((t) => throwError(() => banner554(t.host)), []),
      );
      expectObservable(allBanned).toBe('100ms (a|)', {
        a: {
          outcomes: new Map([['r@x.test', { kind: 'failed', response: '554 5.7.1 go away (b)' }]]),
          relay: 'b',
          remoteMta: 'b',
        },
      });
      const mixed = tryTargets(
        [target('a'), target('b')],
        ['r@x.test'],
        options((t) => throwError(() => (t.host === 'a' ? refused('a') : banner554('b'))), []),
      );
      expectObservable(mixed).toBe('100ms (a|)', {
        a: {
          outcomes: new Map([['r@x.test', { kind: 'deferred', response: '554 5.7.1 go away (b)' }]]),
          unreachable: '554 5.7.1 go away (b)',
          relay: 'b',
          remoteMta: 'b',
        },
      });
    });
  });

  it('does not retry a verdict on the message (a 5xx to DATA is final)', () => {
    const dialled: string[] = [];
    scheduler().run(({ expectObservable }) => {
      const verdict = new TransportError(
        { kind: 'deferred', scope: 'message', response: '4.3.0 body unreadable' },
        'mx1',
      );
      const out$ = tryTargets(
        [target('mx1'), target('mx2')],
        ['r@x.test'],
        options(() => failAfter(10, verdict), dialled),
      );
      expectObservable(out$).toBe('10ms (a|)', {
        a: {
          outcomes: new Map([['r@x.test', { kind: 'deferred', response: '4.3.0 body unreadable (mx1)' }]]),
          relay: 'mx1',
          remoteMta: 'mx1',
        },
      });
    });
    expect(dialled).toEqual(['mx1']);
  });

  it('relay mode dials the relay only', () => {
    const dialled: string[] = [];
    scheduler().run(({ expectObservable }) => {
      const o = {
        ...options(() => defer(() => [delivered(['a@x.test', 'b@y.test'])]), dialled),
        relay: { host: 'relay.test', port: 465, secure: true },
      };
      expectObservable(attemptDelivery('', ['a@x.test', 'b@y.test'], o)).toBe('(a|)', {
        a: {
          outcomes: new Map([
            ['a@x.test', { kind: 'delivered', response: '250 ok' }],
            ['b@y.test', { kind: 'delivered', response: '250 ok' }],
          ]),
          answered: true,
          relay: 'smtps://relay.test:465',
          remoteMta: 'relay.test',
        },
      });
    });
    expect(dialled).toEqual(['smtps://relay.test:465']);
  });
});
