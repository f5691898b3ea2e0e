/** A fixed-capacity FIFO that overwrites its oldest entry when full. */
export interface Ring<T> {
  readonly capacity: number;
  readonly size: number;
  /** Adds `value`; returns true when it pushed out the oldest entry. */
  push(value: T): boolean;
  /** Removes and returns the oldest entry. */
  shift(): T | undefined;
  /** Entries oldest first, without removing them. */
  toArray(): T[];
  clear(): void;
}

export function createRing<T>(capacity: number): Ring<T> {
  const slots: (T | undefined)[] = new Array<T | undefined>(capacity);
  let head = 0; // index of the oldest entry
  let size = 0;

  return {
    capacity,
    get size() {
      return size;
    },
    push(value) {
      if (capacity === 0) return true;
      const full = size === capacity;
      slots[(head + size) % capacity] = value;
      if (full) head = (head + 1) % capacity;
      else size += 1;
      return full;
    },
    shift() {
      if (size === 0) return undefined;
      const value = slots[head];
      slots[head] = undefined;
      head = (head + 1) % capacity;
      size -= 1;
      return value;
    },
    toArray() {
      const out: T[] = [];
      for (let i = 0; i < size; i++) out.push(slots[(head + i) % capacity] as T);
      return out;
    },
    clear() {
      slots.fill(undefined);
      head = 0;
      size = 0;
    },
  };
}
