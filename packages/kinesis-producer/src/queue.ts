/** A FIFO with O(1) shift and a cheap bulk prepend (for retries). */
export class Deque<T> {
  private items: T[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  peek(): T | undefined {
    return this.items[this.head];
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head]!;
    (this.items as (T | undefined)[])[this.head] = undefined;
    this.head++;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  /** Puts `items` back at the front, in their order. */
  unshiftAll(items: readonly T[]): void {
    if (items.length === 0) return;
    this.items = items.concat(this.items.slice(this.head));
    this.head = 0;
  }

  /** Removes and returns everything. */
  drain(): T[] {
    const out = this.items.slice(this.head);
    this.items = [];
    this.head = 0;
    return out;
  }
}
