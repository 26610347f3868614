/**
 * Bounded FIFO of batches waiting for the server. When full, a push evicts the oldest:
 * after an outage the most recent data is the most useful, and memory stays bounded.
 * Evictions are counted. A ring, so push and shift are O(1) at any size.
 */
export class BatchBuffer<T> {
  private readonly slots: (T | undefined)[];
  private head = 0;
  private count = 0;
  private evicted = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`buffer capacity must be a positive integer, got ${capacity}`);
    this.slots = new Array(capacity);
  }

  get size(): number {
    return this.count;
  }

  /** Items evicted (or refused by `unshift`) since the buffer was created. */
  get dropped(): number {
    return this.evicted;
  }

  /** Appends `item` as the newest; returns the oldest item it evicted when full. */
  push(item: T): T | undefined {
    let evicted: T | undefined;
    if (this.count === this.capacity) {
      evicted = this.shift();
      this.evicted++;
    }
    this.slots[(this.head + this.count) % this.capacity] = item;
    this.count++;
    return evicted;
  }

  /**
   * Puts `item` back as the oldest (a send that must be retried). When the buffer is
   * full, `item` is older than everything in it, so it is the one dropped: returns false.
   */
  unshift(item: T): boolean {
    if (this.count === this.capacity) {
      this.evicted++;
      return false;
    }
    this.head = (this.head - 1 + this.capacity) % this.capacity;
    this.slots[this.head] = item;
    this.count++;
    return true;
  }

  /** The oldest item, left in place. */
  peek(): T | undefined {
    return this.count === 0 ? undefined : this.slots[this.head];
  }

  /** Removes and returns the oldest item. */
  shift(): T | undefined {
    if (this.count === 0) return undefined;
    const item = this.slots[this.head];
    this.slots[this.head] = undefined;
    this.head = (this.head + 1) % this.capacity;
    this.count--;
    return item;
  }
}
