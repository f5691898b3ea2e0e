/**
 * An open-addressing hash table from a message id (its two numeric halves,
 * see message-ids.ts) to a slot number, in one Int32Array: 8 bytes per slot
 * at half load, nothing for the garbage collector to walk. Linear probing;
 * deletion shifts the following run back, so there are no tombstones.
 *
 * The table does not keep the ids: `keyOf(slot)` reads them from the caller's
 * columns, which is where they live anyway.
 */
export class IdTable {
  /** slot + 1, or 0 for an empty cell. */
  private cells = new Int32Array(1024);
  private mask = 1023;
  private used = 0;

  constructor(private readonly keyOf: (slot: number) => { readonly time: number; readonly random: number }) {}

  get size(): number {
    return this.used;
  }

  find(time: number, random: number): number {
    for (let i = this.start(time, random); ; i = (i + 1) & this.mask) {
      const cell = this.cells[i] ?? 0;
      if (cell === 0) return -1;
      const key = this.keyOf(cell - 1);
      if (key.time === time && key.random === random) return cell - 1;
    }
  }

  /** Adds `slot` (whose key must not be present yet). */
  insert(slot: number, time: number, random: number): void {
    if ((this.used + 1) * 2 > this.cells.length) this.grow();
    let i = this.start(time, random);
    while ((this.cells[i] ?? 0) !== 0) i = (i + 1) & this.mask;
    this.cells[i] = slot + 1;
    this.used += 1;
  }

  remove(time: number, random: number): void {
    let i = this.start(time, random);
    for (; ; i = (i + 1) & this.mask) {
      const cell = this.cells[i] ?? 0;
      if (cell === 0) return;
      const key = this.keyOf(cell - 1);
      if (key.time === time && key.random === random) break;
    }
    // backward-shift: move later members of the run into the hole when their home allows it
    let hole = i;
    for (let j = (i + 1) & this.mask; ; j = (j + 1) & this.mask) {
      const cell = this.cells[j] ?? 0;
      if (cell === 0) break;
      const key = this.keyOf(cell - 1);
      const home = this.start(key.time, key.random);
      const movable = hole <= j ? home <= hole || home > j : home <= hole && home > j;
      if (movable) {
        this.cells[hole] = cell;
        hole = j;
      }
    }
    this.cells[hole] = 0;
    this.used -= 1;
  }

  private start(time: number, random: number): number {
    // the random half is uniformly random already; mixing in the time spreads ids made in one ms
    const h = Math.imul((random % 0x100000000) ^ Math.imul(time % 0x100000000, 0x9e3779b1), 0x85ebca6b);
    return (h ^ (h >>> 15)) & this.mask;
  }

  private grow(): void {
    const old = this.cells;
    this.cells = new Int32Array(old.length * 2);
    this.mask = this.cells.length - 1;
    this.used = 0;
    for (const cell of old) {
      if (cell === 0) continue;
      const key = this.keyOf(cell - 1);
      this.insert(cell - 1, key.time, key.random);
    }
  }
}
