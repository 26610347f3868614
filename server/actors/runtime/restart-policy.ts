/**
 * When to restart a crashed worker and when to give up: pure, clock passed in.
 * Backoff doubles per crash (from `baseMs`, capped at `maxMs`) and resets after a
 * minute without a crash; more than `maxPerMinute` crashes in a minute is a crash loop,
 * which stops the process so PM2 can restart it clean.
 */
export interface RestartPolicy {
  baseMs: number;
  maxMs: number;
  maxPerMinute: number;
}

/** How a pool or shard is supervised; every actor's options extend this. */
export interface Supervision {
  policy: RestartPolicy;
  onCrashLoop: (name: string, error: unknown) => void;
  onRestart?: (name: string, error: unknown) => void;
}

export interface RestartDecision {
  crashLoop: boolean;
  delayMs: number;
  /** Crash times within the last minute, including this one. */
  recent: number[];
}

export function onCrash(policy: RestartPolicy, recent: readonly number[], nowMs: number): RestartDecision {
  const window = [...recent.filter((t) => nowMs - t < 60_000), nowMs];
  const delayMs = Math.min(policy.maxMs, policy.baseMs * 2 ** (window.length - 1));
  return { crashLoop: window.length > policy.maxPerMinute, delayMs, recent: window };
}
