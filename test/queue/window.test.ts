import { describe, expect, it } from 'vitest';
import { MessageWindow } from '../../src/queue/window.js';

describe('MessageWindow', () => {
  describe('room', () => {
    it.each<[string, [string, number, number][], number]>([
      ['empty: the message limit', [], 3],
      ['by messages', [['a', 1, 1]], 2],
      [
        'full by messages',
        [
          ['a', 1, 1],
          ['b', 1, 1],
          ['c', 1, 1],
        ],
        0,
      ],
      ['recipients below the limit: messages decide', [['a', 2, 9]], 2],
      ['recipients at the limit: none', [['a', 2, 10]], 0],
      ['recipients over the limit (one big message): none', [['a', 1, 40]], 0],
    ])('%s', (_, admitted, room) => {
      const w = new MessageWindow({ messages: 3, recipients: 10 });
      for (const [id, jobs, recipients] of admitted) w.admit(id, jobs, recipients);
      expect(w.room()).toBe(room);
    });

    it('comes back when a message is released', () => {
      const w = new MessageWindow({ messages: 1, recipients: 10 });
      w.admit('a', 1, 10);
      expect(w.room()).toBe(0);
      w.settle('a');
      expect(w.room()).toBe(1);
      expect(w.messages).toBe(0);
      expect(w.recipients).toBe(0);
    });
  });

  describe('settle', () => {
    it('releases only with the last job, with the latest notBefore any job asked for', () => {
      const w = new MessageWindow({ messages: 10, recipients: 100 });
      w.admit('m', 3, 7);
      expect(w.settle('m', 500)).toBeUndefined();
      expect(w.settle('m', 200)).toBeUndefined();
      expect(w.messages).toBe(1);
      expect(w.recipients).toBe(7);
      expect(w.settle('m')).toEqual({ notBefore: 500 });
      expect(w.messages).toBe(0);
      expect(w.recipients).toBe(0);
    });

    it.each<[string, (number | undefined)[], number | undefined]>([
      ['no job asked: undefined', [undefined, undefined], undefined],
      ['only the last job asked', [undefined, 300], 300],
      ['only the first job asked', [300, undefined], 300],
      ['zero counts', [0, undefined], 0],
    ])('%s', (_, notBefores, expected) => {
      const w = new MessageWindow({ messages: 10, recipients: 100 });
      w.admit('m', notBefores.length, 1);
      const results = notBefores.map((n) => w.settle('m', n));
      expect(results.slice(0, -1)).toEqual(notBefores.slice(0, -1).map(() => undefined));
      expect(results.at(-1)).toEqual({ notBefore: expected });
    });

    it('messages settle independently', () => {
      const w = new MessageWindow({ messages: 10, recipients: 100 });
      w.admit('a', 2, 2);
      w.admit('b', 1, 5);
      expect(w.settle('a', 9)).toBeUndefined();
      expect(w.settle('b', 1)).toEqual({ notBefore: 1 });
      expect(w.recipients).toBe(2);
      expect(w.settle('a')).toEqual({ notBefore: 9 });
    });

    it('an unknown or already released message is ignored', () => {
      const w = new MessageWindow({ messages: 10, recipients: 100 });
      expect(w.settle('nope', 5)).toBeUndefined();
      w.admit('a', 1, 3);
      expect(w.settle('a')).toEqual({ notBefore: undefined });
      expect(w.settle('a')).toBeUndefined();
      expect(w.recipients).toBe(0);
    });
  });

  describe('drain', () => {
    it('hands back every open message and empties the window', () => {
      const w = new MessageWindow({ messages: 3, recipients: 10 });
      w.admit('a', 2, 4);
      w.admit('b', 1, 6);
      w.admit('c', 1, 1);
      w.settle('c');
      w.settle('a');
      expect(w.room()).toBe(0);
      expect(w.drain()).toEqual(['a', 'b']);
      expect(w.messages).toBe(0);
      expect(w.recipients).toBe(0);
      expect(w.room()).toBe(3);
      // a job settling after the drain finds nothing to release
      expect(w.settle('a')).toBeUndefined();
    });
  });
});
