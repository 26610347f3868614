import os from "node:os";
import type { Database } from "lmdb";

export interface LeaseRecord { holder: string; expires_at: number }

/**
 * A lease in the control store for jobs that must run once per host (notification
 * delivery, certificate scheduling, retention): whoever holds an unexpired lease runs the
 * job and renews it well before it expires; when the holder dies, another process takes
 * over once the lease runs out. Acquire and renew are one LMDB write transaction, which
 * LMDB serializes across processes, so two holders never overlap.
 */
export class Lease {
  readonly holder: string;

  constructor(
    private readonly db: Database<LeaseRecord, string>,
    readonly name: string,
    private readonly ttlMs: number,
    holder = `${os.hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`,
  ) {
    this.holder = holder;
  }

  /** Takes the lease if free or expired, renews it if ours; true when we hold it afterwards. */
  async acquire(nowMs = Date.now()): Promise<boolean> {
    // Ours with two thirds of its time left: nobody else can take it before it expires, so
    // no write (and no fsync) is needed yet. The notifier asks on every pass.
    const mine = this.db.get(this.name);
    if (mine?.holder === this.holder && mine.expires_at - nowMs > (2 * this.ttlMs) / 3) return true;
    let held = false;
    await this.db.transaction(() => {
      const current = this.db.get(this.name);
      held = !current || current.holder === this.holder || current.expires_at <= nowMs;
      if (held) this.db.put(this.name, { holder: this.holder, expires_at: nowMs + this.ttlMs });
    });
    return held;
  }

  /** Gives the lease up (on shutdown) so another process need not wait for it to expire. */
  async release(): Promise<void> {
    await this.db.transaction(() => {
      if (this.db.get(this.name)?.holder === this.holder) this.db.remove(this.name);
    });
  }

  currentHolder(): string | undefined {
    return this.db.get(this.name)?.holder;
  }
}
