/**
 * The file spool's in-memory picture of the queue: one compact entry per
 * message with recipients still waiting, and nothing for finished ones.
 *
 * An entry is a slot in typed-array columns (about 72 bytes with the heaps and
 * the id table; a million waiting messages take ~80 MiB and give the garbage
 * collector nothing to walk): the message id as two numbers, when it is next
 * due, how many recipients wait and for which destination domains. Unclaimed
 * entries sit in a binary min-heap by due time (then age), so a claim pops
 * what is due in O(log n) however many messages wait for later; claimed ones
 * stay in the columns (for the depth, `shape` and listings) but out of the
 * heap until released. A second heap holds every entry by arrival, for the
 * age of the oldest waiting message.
 *
 * In: `set` (a message stored or its state changed), `drop`, `popDue`,
 * `release`, `force` (retry now). Out: due ids, `nextDue`, `depth`,
 * `oldest`, `shape`, pages of ids, and every entry for a journal snapshot.
 */
import type { MessageId } from '../../domain/envelope.js';
import type { ShapeCell } from '../spool.js';
import { pageOf, shapeOf, type LiveEntry } from './due-views.js';
import { IdTable } from './id-table.js';
import { joinId, splitId } from './message-ids.js';
import { SlotHeap } from './slot-heap.js';

/** Waiting recipients per destination domain. */
export type DomainCounts = readonly (readonly [domain: string, recipients: number])[];

export interface DueEntry {
  readonly id: MessageId;
  /** When the message is next due (its earliest waiting recipient). */
  readonly due: number;
  /** When its last waiting recipient is due (`due` when they all are at once). */
  readonly last: number;
  readonly domains: DomainCounts;
}

const LIVE = 1;
const CLAIMED = 2;
const FORCED = 4;

export class DueIndex {
  private capacity = 0;
  private dueAt = new Float64Array(0);
  private lastAt = new Float64Array(0);
  private time = new Float64Array(0);
  private random = new Float64Array(0);
  private waiting = new Uint32Array(0);
  /** Domain number, or -1 when the message waits for several (see `multi`). */
  private domain = new Int32Array(0);
  private flags = new Uint8Array(0);
  /** Unclaimed slots by due time, then the older message first. */
  private readonly heap = new SlotHeap((a, b) => this.less(a, b));
  /** Every live slot, claimed ones too, by arrival (id order): the oldest waiting message is on top. */
  private readonly arrival = new SlotHeap((a, b) => this.older(a, b));
  private free: number[] = [];
  private top = 0;
  private readonly ids = new IdTable((slot) => ({
    time: this.time[slot] ?? Number.NaN,
    random: this.random[slot] ?? Number.NaN,
  }));
  private readonly multi = new Map<number, DomainCounts>();
  private readonly domainNumbers = new Map<string, number>();
  private readonly domainNames: string[] = [];
  private waitingTotal = 0;

  /** Messages with waiting recipients. */
  get size(): number {
    return this.ids.size;
  }

  /** Waiting recipients, claimed ones included. */
  get depth(): number {
    return this.waitingTotal;
  }

  has(id: MessageId): boolean {
    return this.slotOf(id) >= 0;
  }

  isClaimed(id: MessageId): boolean {
    const slot = this.slotOf(id);
    return slot >= 0 && ((this.flags[slot] ?? 0) & CLAIMED) !== 0;
  }

  /** Adds a message or replaces what is known of it; a claim is kept. No waiting recipients: dropped. */
  set(entry: DueEntry): void {
    const total = entry.domains.reduce((sum, [, n]) => sum + n, 0);
    if (total === 0) return this.drop(entry.id);
    const { time, random } = splitId(entry.id);
    let slot = this.ids.find(time, random);
    if (slot < 0) {
      slot = this.allocate(time, random);
      this.ids.insert(slot, time, random);
    } else {
      this.waitingTotal -= this.waiting[slot] ?? 0;
      this.multi.delete(slot);
    }
    this.dueAt[slot] = entry.due;
    this.lastAt[slot] = Math.max(entry.due, entry.last);
    this.waiting[slot] = total;
    this.waitingTotal += total;
    const [only] = entry.domains;
    if (entry.domains.length === 1 && only) this.domain[slot] = this.numberOf(only[0]);
    else {
      this.domain[slot] = -1;
      this.multi.set(
        slot,
        entry.domains.map(([d, n]) => [d, n] as const),
      );
    }
    if (((this.flags[slot] ?? 0) & CLAIMED) === 0) this.heap.place(slot);
  }

  drop(id: MessageId): void {
    const slot = this.slotOf(id);
    if (slot < 0) return;
    this.heap.remove(slot);
    this.arrival.remove(slot);
    this.ids.remove(this.time[slot] ?? 0, this.random[slot] ?? 0);
    this.waitingTotal -= this.waiting[slot] ?? 0;
    this.multi.delete(slot);
    this.flags[slot] = 0;
    this.free.push(slot);
  }

  /** Claims up to `limit` messages due at `now`, earliest first; `forced` ones were made due by `force`. */
  popDue(now: number, limit: number): { id: MessageId; forced: boolean }[] {
    const out: { id: MessageId; forced: boolean }[] = [];
    for (let slot = this.heap.peek(); out.length < limit && slot !== undefined; slot = this.heap.peek()) {
      if ((this.dueAt[slot] ?? Infinity) > now) break;
      this.heap.remove(slot);
      const flags = this.flags[slot] ?? 0;
      this.flags[slot] = (flags | CLAIMED) & ~FORCED;
      out.push({ id: this.idOf(slot), forced: (flags & FORCED) !== 0 });
    }
    return out;
  }

  /** Ends a claim: due again at its next attempt, or not before `notBefore`. */
  release(id: MessageId, notBefore = -Infinity): void {
    const slot = this.slotOf(id);
    if (slot < 0 || ((this.flags[slot] ?? 0) & CLAIMED) === 0) return;
    this.flags[slot] = (this.flags[slot] ?? 0) & ~CLAIMED;
    this.dueAt[slot] = Math.max(this.dueAt[slot] ?? 0, notBefore);
    this.heap.place(slot);
  }

  /**
   * Retry now: unclaimed messages with a recipient due later are due at
   * `now` with all their waiting recipients. Returns how many recipients
   * moved when the whole message was due later, and the ids of messages
   * partly due already (the caller counts their recipients from the record).
   */
  force(now: number, id?: MessageId): { moved: number; partly: MessageId[] } {
    const slots =
      id === undefined
        ? this.heap.slots()
        : [this.slotOf(id)].filter((s) => s >= 0 && ((this.flags[s] ?? 0) & CLAIMED) === 0);
    let moved = 0;
    let sift = false;
    const partly: MessageId[] = [];
    for (const slot of slots) {
      if ((this.lastAt[slot] ?? 0) <= now || ((this.flags[slot] ?? 0) & FORCED) !== 0) continue;
      this.flags[slot] = (this.flags[slot] ?? 0) | FORCED;
      if ((this.dueAt[slot] ?? 0) <= now) {
        partly.push(this.idOf(slot));
        continue;
      }
      this.dueAt[slot] = now;
      moved += this.waiting[slot] ?? 0;
      sift = true;
      if (id !== undefined) this.heap.place(slot);
    }
    if (id === undefined && sift) this.heap.reorder();
    return { moved, partly };
  }

  /** When the earliest unclaimed message falls due. */
  nextDue(): number | undefined {
    const first = this.heap.peek();
    return first === undefined ? undefined : this.dueAt[first];
  }

  /** Every entry (for a journal snapshot); claimed ones with the due time they had. */
  *entries(): Generator<DueEntry> {
    for (let slot = 0; slot < this.top; slot++) {
      if (((this.flags[slot] ?? 0) & LIVE) === 0) continue;
      yield {
        id: this.idOf(slot),
        due: this.dueAt[slot] ?? 0,
        last: this.lastAt[slot] ?? 0,
        domains: this.domainsOf(slot),
      };
    }
  }

  /** Waiting recipients per domain and minute of arrival (the id's time). */
  shape(): ShapeCell[] {
    return shapeOf(this.live());
  }

  /** Up to `limit` waiting ids after `after`, in id order (oldest first). */
  page(after: MessageId | undefined, limit: number): MessageId[] {
    return pageOf(this.live(), after === undefined ? undefined : splitId(after), limit);
  }

  /** When the oldest message with a waiting recipient arrived (its id's time), claimed or not. */
  oldest(): number | undefined {
    const slot = this.arrival.peek();
    return slot === undefined ? undefined : this.time[slot];
  }

  private *live(): Generator<LiveEntry> {
    for (let slot = 0; slot < this.top; slot++) {
      if (((this.flags[slot] ?? 0) & LIVE) === 0) continue;
      yield { time: this.time[slot] ?? 0, random: this.random[slot] ?? 0, domains: this.domainsOf(slot) };
    }
  }

  private domainsOf(slot: number): DomainCounts {
    const d = this.domain[slot] ?? -1;
    return d >= 0 ? [[this.domainNames[d] ?? '', this.waiting[slot] ?? 0]] : (this.multi.get(slot) ?? []);
  }

  private numberOf(domain: string): number {
    let n = this.domainNumbers.get(domain);
    if (n === undefined) {
      n = this.domainNames.length;
      this.domainNames.push(domain);
      this.domainNumbers.set(domain, n);
    }
    return n;
  }

  private slotOf(id: MessageId): number {
    const { time, random } = splitId(id);
    return Number.isNaN(time) || Number.isNaN(random) ? -1 : this.ids.find(time, random);
  }

  private idOf(slot: number): MessageId {
    return joinId(this.time[slot] ?? 0, this.random[slot] ?? 0);
  }

  private allocate(time: number, random: number): number {
    let slot = this.free.pop();
    if (slot === undefined) {
      if (this.top === this.capacity) this.grow();
      slot = this.top++;
    }
    this.time[slot] = time;
    this.random[slot] = random;
    this.flags[slot] = LIVE;
    this.arrival.place(slot);
    return slot;
  }

  private grow(): void {
    const capacity = Math.max(1024, this.capacity * 2);
    const widen = <T extends Float64Array | Uint32Array | Int32Array | Uint8Array>(
      old: T,
      make: (n: number) => T,
    ): T => {
      const next = make(capacity);
      next.set(old);
      return next;
    };
    this.dueAt = widen(this.dueAt, (n) => new Float64Array(n));
    this.lastAt = widen(this.lastAt, (n) => new Float64Array(n));
    this.time = widen(this.time, (n) => new Float64Array(n));
    this.random = widen(this.random, (n) => new Float64Array(n));
    this.waiting = widen(this.waiting, (n) => new Uint32Array(n));
    this.domain = widen(this.domain, (n) => new Int32Array(n));
    this.flags = widen(this.flags, (n) => new Uint8Array(n));
    this.heap.grow(capacity);
    this.arrival.grow(capacity);
    this.capacity = capacity;
  }

  /** Heap order: by due time, then the older message first. */
  private less(a: number, b: number): boolean {
    const da = this.dueAt[a] ?? 0;
    const db = this.dueAt[b] ?? 0;
    return da !== db ? da < db : this.older(a, b);
  }

  /** Id order: by arrival time, then the random half. */
  private older(a: number, b: number): boolean {
    const ta = this.time[a] ?? 0;
    const tb = this.time[b] ?? 0;
    return ta !== tb ? ta < tb : (this.random[a] ?? 0) < (this.random[b] ?? 0);
  }
}
