import type { Database, RootDatabase } from "lmdb";

/** Failed logins of one (client address, username). */
export interface FailureRecord {
  failures: number;
  last_failure_at: number;
  locked_until: number;
}

export interface ThrottlePolicy {
  /** Failures in a row that lock the pair. */
  threshold: number;
  lockMs: number;
}

/** Seconds until `record` allows another try; 0 when it does. */
export function lockedFor(record: FailureRecord | undefined, nowMs: number): number {
  return record && record.locked_until > nowMs ? Math.ceil((record.locked_until - nowMs) / 1000) : 0;
}

/** The record after one more failure: failures older than a lock period are forgotten; the threshold locks. */
export function afterFailure(record: FailureRecord | undefined, policy: ThrottlePolicy, nowMs: number): FailureRecord {
  const recent = record && nowMs - record.last_failure_at < policy.lockMs && record.locked_until <= nowMs ? record.failures : 0;
  const failures = recent + 1;
  return failures >= policy.threshold
    ? { failures: 0, last_failure_at: nowMs, locked_until: nowMs + policy.lockMs }
    : { failures, last_failure_at: nowMs, locked_until: 0 };
}

/**
 * Login throttling kept in the control store, so a lock holds on every PM2 instance and
 * across restarts. Keyed by client address and username: one attacker cannot lock a
 * user out from everywhere, and guessing one user's password from one address is slow.
 */
export class LoginThrottle {
  private readonly failures: Database<FailureRecord, string>;

  constructor(private readonly env: RootDatabase, private readonly policy: ThrottlePolicy) {
    this.failures = env.openDB<FailureRecord, string>({ name: "login_failures" });
  }

  /** Seconds the pair must wait before trying again; 0 when it may try now. */
  lockedFor(ip: string, username: string, nowMs = Date.now()): number {
    this.env.resetReadTxn();
    return lockedFor(this.failures.get(key(ip, username)), nowMs);
  }

  /** Records a failure; returns the seconds the pair is now locked for (0 when not yet). */
  async fail(ip: string, username: string, nowMs = Date.now()): Promise<number> {
    let next: FailureRecord | undefined;
    await this.failures.transaction(() => {
      next = afterFailure(this.failures.get(key(ip, username)), this.policy, nowMs);
      this.failures.put(key(ip, username), next);
    });
    return lockedFor(next, nowMs);
  }

  async succeed(ip: string, username: string): Promise<void> {
    await this.failures.remove(key(ip, username));
  }
}

const key = (ip: string, username: string) => `${ip}\u0000${username}`;
