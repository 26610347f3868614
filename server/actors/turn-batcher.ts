/**
 * Collects what is submitted within one turn of the event loop (up to `max` items) and
 * sends it as one batch, so a burst costs one message to a worker instead of one per
 * item; each submitter gets its own answer, or the batch's error.
 */
export class TurnBatcher<T, R> {
  private items: T[] = [];
  private waiters: { resolve: (r: R) => void; reject: (e: unknown) => void }[] = [];
  private scheduled = false;

  constructor(private readonly max: number, private readonly send: (items: T[]) => Promise<R[]>) {}

  submit(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.items.push(item);
      this.waiters.push({ resolve, reject });
      if (this.items.length >= this.max) this.flush();
      else if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Sends what has been collected now (also used before shutting down). */
  flush(): void {
    this.scheduled = false;
    if (this.items.length === 0) return;
    const items = this.items, waiters = this.waiters;
    this.items = [];
    this.waiters = [];
    this.send(items).then(
      (results) => waiters.forEach((w, i) => w.resolve(results[i]!)),
      (err: unknown) => { for (const w of waiters) w.reject(err); },
    );
  }
}
