/**
 * An indexed binary min-heap of integer slots (positions in the due index's
 * columns), ordered by a comparator over slots. It knows where each slot
 * sits, so a slot is removed or moved after its key changed in O(log n).
 * Two typed arrays, nothing for the garbage collector to walk.
 */
export class SlotHeap {
  private heap = new Int32Array(0);
  /** Where each slot sits in `heap`, -1 when it is not in it. */
  private at = new Int32Array(0);
  private count = 0;

  constructor(private readonly less: (a: number, b: number) => boolean) {}

  get size(): number {
    return this.count;
  }

  /** The least slot, or undefined when empty. */
  peek(): number | undefined {
    return this.count > 0 ? this.heap[0] : undefined;
  }

  /** The slots in the heap (in heap order). */
  slots(): Int32Array {
    return this.heap.slice(0, this.count);
  }

  /** Room for slots below `capacity`; new slots start outside the heap. */
  grow(capacity: number): void {
    const heap = new Int32Array(capacity);
    heap.set(this.heap);
    const at = new Int32Array(capacity).fill(-1);
    at.set(this.at);
    this.heap = heap;
    this.at = at;
  }

  has(slot: number): boolean {
    return (this.at[slot] ?? -1) >= 0;
  }

  /** Puts a slot in the heap, or moves it to where its key now belongs. */
  place(slot: number): void {
    const at = this.at[slot] ?? -1;
    if (at < 0) {
      this.heap[this.count] = slot;
      this.at[slot] = this.count;
      this.count += 1;
      this.siftUp(this.count - 1);
    } else {
      this.siftUp(at);
      this.siftDown(this.at[slot] ?? at);
    }
  }

  /** Takes a slot out of the heap (nothing when it is not in it). */
  remove(slot: number): void {
    const at = this.at[slot] ?? -1;
    if (at < 0) return;
    this.at[slot] = -1;
    this.count -= 1;
    if (at === this.count) return;
    const last = this.heap[this.count] ?? 0;
    this.heap[at] = last;
    this.at[last] = at;
    this.siftUp(at);
    this.siftDown(this.at[last] ?? at);
  }

  /** Restores the order after many keys changed at once. */
  reorder(): void {
    for (let i = (this.count >> 1) - 1; i >= 0; i--) this.siftDown(i);
  }

  private siftUp(from: number): void {
    let i = from;
    const slot = this.heap[i] ?? 0;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = this.heap[parent] ?? 0;
      if (!this.less(slot, p)) break;
      this.heap[i] = p;
      this.at[p] = i;
      i = parent;
    }
    this.heap[i] = slot;
    this.at[slot] = i;
  }

  private siftDown(from: number): void {
    let i = from;
    const slot = this.heap[i] ?? 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= this.count) break;
      const right = left + 1;
      const l = this.heap[left] ?? 0;
      const r = this.heap[right] ?? 0;
      const child = right < this.count && this.less(r, l) ? right : left;
      const c = this.heap[child] ?? 0;
      if (!this.less(c, slot)) break;
      this.heap[i] = c;
      this.at[c] = i;
      i = child;
    }
    this.heap[i] = slot;
    this.at[slot] = i;
  }
}
