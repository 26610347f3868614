import type { Database, RootDatabase } from "lmdb";

/** Login attempts of one (client address, username) that did not succeed (yet). */
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

/** Failures that still count: none once a lock period has passed since the last one or a lock ended. */
function recentFailures(record: FailureRecord | undefined, policy: ThrottlePolicy, nowMs: number): number {
  if (!record || record.locked_until > nowMs) return record?.failures ?? 0;
  if (record.locked_until > 0 || nowMs - record.last_failure_at >= policy.lockMs) return 0;
  return record.failures;
}

/**
 * An attempt about to check a password. It counts as a failure before the check, so
 * parallel guesses cannot all pass the gate: once `threshold` attempts are counted, the
 * rest are locked out without being checked. `wait` > 0: refuse with that many seconds.
 */
export function beginAttempt(record: FailureRecord | undefined, policy: ThrottlePolicy, nowMs: number): { record: FailureRecord; wait: number } {
  const wait = lockedFor(record, nowMs);
  if (wait > 0) return { record: record!, wait };
  const failures = recentFailures(record, policy, nowMs);
  if (failures >= policy.threshold) {
    const locked = { failures, last_failure_at: nowMs, locked_until: nowMs + policy.lockMs };
    return { record: locked, wait: lockedFor(locked, nowMs) };
  }
  return { record: { failures: failures + 1, last_failure_at: nowMs, locked_until: 0 }, wait: 0 };
}

/** After a wrong password: the threshold-th failure locks the pair. A lock is never shortened. */
export function afterFailure(record: FailureRecord, policy: ThrottlePolicy, nowMs: number): FailureRecord {
  if (record.locked_until > nowMs || record.failures < policy.threshold) return record;
  return { ...record, locked_until: nowMs + policy.lockMs };
}

/**
 * Login throttling kept in the control store, so a lock holds on every PM2 instance and
 * across restarts. Keyed by client address and username: one attacker cannot lock a
 * user out from everywhere, and guessing one user's password from one address is slow.
 * Each step is one LMDB write transaction, serialized across threads and processes.
 */
export class LoginThrottle {
  private readonly failures: Database<FailureRecord, string>;

  constructor(private readonly env: RootDatabase, private readonly policy: ThrottlePolicy) {
    this.failures = failuresDb(env);
  }

  /** Counts an attempt before its password is checked; > 0: refuse it, locked for that many seconds. */
  async begin(ip: string, username: string, nowMs = Date.now()): Promise<number> {
    let wait = 0;
    await this.failures.transaction(() => {
      const next = beginAttempt(this.failures.get(key(ip, username)), this.policy, nowMs);
      this.failures.put(key(ip, username), next.record);
      wait = next.wait;
    });
    return wait;
  }

  /** The attempt's password was wrong; returns the seconds the pair is now locked for (0 when not yet). */
  async fail(ip: string, username: string, nowMs = Date.now()): Promise<number> {
    let wait = 0;
    await this.failures.transaction(() => {
      const current = this.failures.get(key(ip, username));
      if (!current) return;
      const next = afterFailure(current, this.policy, nowMs);
      this.failures.put(key(ip, username), next);
      wait = lockedFor(next, nowMs);
    });
    return wait;
  }

  async succeed(ip: string, username: string): Promise<void> {
    await this.failures.remove(key(ip, username));
  }

  /**
   * Forgets records that no longer count, so names tried once do not pile up; returns how
   * many. Run by the hourly retention job, not on a login: the scan of every record must not
   * land on one user's attempt (under a guessing attack the table is at its largest).
   */
  async prune(nowMs = Date.now()): Promise<number> {
    let removed = 0;
    await this.failures.transaction(() => {
      removed = 0;
      for (const { key: k, value } of this.failures.getRange({})) {
        if (value.locked_until <= nowMs && nowMs - value.last_failure_at >= this.policy.lockMs) {
          this.failures.remove(k);
          removed++;
        }
      }
    });
    return removed;
  }
}

const key = (ip: string, username: string) => `${ip}\u0000${username}`;

const failuresDb = (env: RootDatabase) => env.openDB<FailureRecord, string>({ name: "login_failures" });

/** Lifts every lock and failure count on `username`, from every address (an operator's password reset). */
export async function clearLoginFailures(env: RootDatabase, username: string): Promise<void> {
  const db = failuresDb(env);
  await db.transaction(() => {
    for (const k of db.getKeys({})) if (k.endsWith(`\u0000${username}`)) db.remove(k);
  });
}
