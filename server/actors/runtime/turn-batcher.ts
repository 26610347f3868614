/**
 * Collects what is submitted within one turn of the event loop (up to `max` items) and
 * sends it as one batch, so a burst costs one message to a worker instead of one per
 * item; each submitter gets its own answer, or the batch's error.
 *
 * With `inFlight`, at most that many batches are out at once: while all are, items keep
 * collecting (a full batch still goes, to wait in the worker pool's queue), and the batch
 * goes when one comes back: under load, fuller batches and fewer messages.
 */
export class TurnBatcher<T, R> {
  private items: T[] = [];
  private waiters: { resolve: (r: R) => void; reject: (e: unknown) => void }[] = [];
  private scheduled = false;
  private out = 0;

  constructor(private readonly max: number, private readonly send: (items: T[]) => Promise<R[]>, private readonly inFlight = Infinity) {}

  submit(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.items.push(item);
      this.waiters.push({ resolve, reject });
      if (this.items.length >= this.max) this.flush();
      else if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => {
          this.scheduled = false;
          if (this.out < this.inFlight) this.flush();
        });
      }
    });
  }

  /** Sends what has been collected now, whatever is out (also used before shutting down). */
  flush(): void {
    if (this.items.length === 0) return;
    const items = this.items, waiters = this.waiters;
    this.items = [];
    this.waiters = [];
    this.out++;
    let sent: Promise<R[]>;
    try {
      sent = this.send(items);
    } catch (err) {
      sent = Promise.reject(err); // a send that throws fails its batch, like one that rejects
    }
    sent.then(
      (results) => waiters.forEach((w, i) => w.resolve(results[i]!)),
      (err: unknown) => { for (const w of waiters) w.reject(err); },
    ).finally(() => {
      this.out--;
      // Collected while every batch was out: goes now, in the turn a batch came back.
      if (!this.scheduled && this.out < this.inFlight) this.flush();
    });
  }
}
