/**
 * Keys held back until a time (a destination waiting for its rate slot or the
 * end of its dead period), as a binary min-heap: the dispatcher's one timer
 * is set for the earliest, and what is due comes out in O(log n) each. A key
 * held again replaces its earlier time (the stale heap entry is skipped).
 */
export class TimeHeap {
  private readonly heap: { at: number; key: string }[] = [];
  /** The live time of each held key. */
  private readonly live = new Map<string, number>();

  /** Holds `key` until `at`, unless it is held until sooner already. */
  hold(key: string, at: number): void {
    if ((this.live.get(key) ?? Infinity) <= at) return;
    this.live.set(key, at);
    const h = this.heap;
    h.push({ at, key });
    for (let i = h.length - 1; i > 0;) {
      const parent = (i - 1) >> 1;
      const p = h[parent] as { at: number; key: string };
      if (p.at <= at) break;
      h[i] = p;
      h[parent] = { at, key };
      i = parent;
    }
  }

  /** The keys whose time has come by `now`, earliest first; they are no longer held. */
  due(now: number): string[] {
    const out: string[] = [];
    while (this.heap.length > 0 && (this.heap[0]?.at ?? Infinity) <= now) {
      const entry = this.pop();
      if (entry && this.live.get(entry.key) === entry.at) {
        this.live.delete(entry.key);
        out.push(entry.key);
      }
    }
    return out;
  }

  /** When the earliest held key comes due (stale entries dropped on the way). */
  next(): number | undefined {
    while (this.heap.length > 0 && this.live.get(this.heap[0]?.key ?? '') !== this.heap[0]?.at) this.pop();
    return this.heap[0]?.at;
  }

  private pop(): { at: number; key: string } | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (top === undefined || last === undefined || h.length === 0) return top;
    h[0] = last;
    for (let i = 0; ;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if ((h[l]?.at ?? Infinity) < (h[m]?.at ?? Infinity)) m = l;
      if ((h[r]?.at ?? Infinity) < (h[m]?.at ?? Infinity)) m = r;
      if (m === i) break;
      [h[i], h[m]] = [h[m] as { at: number; key: string }, h[i] as { at: number; key: string }];
      i = m;
    }
    return top;
  }
}
