import { describe, expect, it } from 'vitest';
import { SlotHeap } from '../../src/spool/file/slot-heap.js';
import { seeded } from '../helpers/random.js';

describe('indexed slot heap (the due index order)', () => {
  it('keeps the least key on top through random places, moves and removals', () => {
    const random = seeded(7);
    const key = new Float64Array(512);
    const heap = new SlotHeap((a, b) => (key[a] ?? 0) < (key[b] ?? 0) || ((key[a] ?? 0) === (key[b] ?? 0) && a < b));
    heap.grow(256);
    heap.grow(512); // growing keeps what is in it
    const inHeap = new Set<number>();
    for (let step = 0; step < 5000; step++) {
      const slot = Math.floor(random() * 512);
      if (random() < 0.3) {
        heap.remove(slot);
        inHeap.delete(slot);
      } else {
        key[slot] = Math.floor(random() * 100); // a new key for a slot already in the heap moves it
        heap.place(slot);
        inHeap.add(slot);
      }
      const expected = [...inHeap].sort((a, b) => (key[a] ?? 0) - (key[b] ?? 0) || a - b)[0];
      expect(heap.peek()).toBe(expected);
      expect(heap.size).toBe(inHeap.size);
    }
    expect([...heap.slots()].sort((a, b) => a - b)).toEqual([...inHeap].sort((a, b) => a - b));
  });

  it('reorders after many keys changed at once, and empties in order', () => {
    const key = new Float64Array(64);
    const heap = new SlotHeap((a, b) => (key[a] ?? 0) < (key[b] ?? 0));
    heap.grow(64);
    for (let slot = 0; slot < 64; slot++) {
      key[slot] = slot;
      heap.place(slot);
    }
    for (let slot = 0; slot < 64; slot++) key[slot] = 1000 - slot; // every key changed: the order reverses
    heap.reorder();
    const order: number[] = [];
    for (let slot = heap.peek(); slot !== undefined; slot = heap.peek()) {
      order.push(slot);
      heap.remove(slot);
    }
    expect(order).toEqual([...Array(64).keys()].reverse());
    expect(heap.has(0)).toBe(false);
  });
});
